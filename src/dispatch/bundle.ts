import path from 'node:path';
import { buildNodeExecutable } from './executable';

/** Builds the in-sandbox `dispatch` executable. */
export const buildDispatchBundle = (): Promise<string> => buildNodeExecutable(path.join(import.meta.dirname, 'main.ts'), 'dispatch');
