import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../errors';

/** node:util parseArgs, with a bad flag reported as the person's input error (exit 2). */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new InputError('arguments', (e as Error).message);
  }
}
