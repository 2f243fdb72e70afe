import path from 'node:path';
import { buildNodeExecutable } from '../../dispatch/executable';

/**
 * Builds the in-sandbox session runner (the SDK, undici and our bash tool inlined). Node 20 is
 * enough: it uses the SDK's SessionToolRunner, not the Node 22 agent toolset.
 */
export const buildRunnerBundle = (): Promise<string> => buildNodeExecutable(path.join(import.meta.dirname, 'main.ts'), 'session-runner');
