// Entry of the `dispatch` executable uploaded into the session sandbox (bundled, self-contained:
// the project is not readable in there). Also installed as `bulkhead`, for `bulkhead dispatch`.
import path from 'node:path';
import { runDispatch } from './client';

const args = process.argv.slice(2);
const asBulkhead = path.basename(process.argv[1] ?? '') === 'bulkhead';
if (asBulkhead && args[0] !== 'dispatch') {
  process.stderr.write('in the session sandbox only `bulkhead dispatch AGENT "TASK"` is available\n');
  process.exit(2);
}
runDispatch(asBulkhead ? args.slice(1) : args, process.env).then((r) => {
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
});
