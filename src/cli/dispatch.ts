import { runDispatch } from '../dispatch/client';

/** `bulkhead dispatch AGENT "TASK"`: the same client as the sandbox's `dispatch`, via env. */
export async function dispatch(argv: string[]): Promise<number> {
  const r = await runDispatch(argv, process.env);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.exitCode;
}
