import { SandboxError } from '../driver';

/**
 * How the `openshell` CLI reports its own failures (../shared/contracts/openshell.md): exit 1
 * with `Error:` and a miette report on stderr (`  × message`, `  │ ` continuation lines when
 * piped; crates/openshell-cli/src/main.rs `main() -> miette::Result`). A command run by
 * `sandbox exec` also exits 1 on its own, so the report, not the code, tells the two apart. A
 * command's own "Error: boom" (Node's uncaught error) has no `×` and is not mistaken for one.
 */
const REPORT_START = /^Error: +[×x] (.*)$/m;

/** The CLI's failure message (report lines joined), or null when stderr carries no report. */
export function cliFailure(stderr: string): string | null {
  const lines = stderr.split('\n');
  let at = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (REPORT_START.test(lines[i]!)) {
      at = i;
      break;
    }
  }
  if (at < 0) return null;
  const out = [REPORT_START.exec(lines[at]!)![1]!.trim()];
  for (const l of lines.slice(at + 1)) {
    const m = /^ +[│|] ?(.*)$/.exec(l);
    if (!m) break;
    out.push(m[1]!.trim());
  }
  return out.join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * tonic prints a gRPC status as `code: '<description>', message: "<msg>"`, the code spelled as
 * its description (tonic's Code::description), never `NotFound`/`Unavailable`.
 */
const NOT_FOUND = /Some requested entity was not found|sandbox (?:'[^']*' )?not found/i;
const INVALID = /Client specified an invalid argument|invalid label format|must contain only|exceeds maximum length|must not (?:start|end|contain)/i;
const TRANSIENT =
  /The service is currently unavailable|Deadline expired before operation could complete|The operation was cancelled|transport error|connection refused|dns error|tcp connect|broken pipe|connection reset|deadline has elapsed|timed out|Unavailable|DeadlineExceeded/i;
const NOT_READY = /sandbox '[^']*' is not ready \(phase: (\w+)\)/;
const STDIN_TOO_LARGE = /stdin payload exceeds/;

export type Operation = 'create' | 'exec' | 'upload' | 'policy' | 'delete' | 'list' | 'logs' | 'version';

/** A CLI failure as a typed error: permanent ones are marked non-retryable where they arise. */
export function classify(op: Operation, name: string, message: string): SandboxError {
  const what = `openshell ${op}${name ? ` ${name}` : ''}`;
  if (NOT_FOUND.test(message) && op !== 'list' && op !== 'version') return new SandboxError(`sandbox ${name} not found (${what}: ${message})`, 'SandboxMissing', false);
  const phase = NOT_READY.exec(message)?.[1];
  if (phase) {
    // Still coming up: try again. Error, Stopped, Deleting...: it will not run anything again.
    if (phase === 'Provisioning' || phase === 'Starting') return new SandboxError(`${what}: ${message}`, 'DriverUnavailable', true);
    return new SandboxError(`${what}: sandbox lost (phase ${phase}): ${message}`, 'SandboxLost', false);
  }
  if (STDIN_TOO_LARGE.test(message)) return new SandboxError(`${what}: ${message}`, 'DriverUnavailable', false);
  if (TRANSIENT.test(message)) return new SandboxError(`${what}: gateway unavailable: ${message}`, 'DriverUnavailable', true);
  if (INVALID.test(message)) {
    if (op === 'create') return new SandboxError(`${what} rejected: ${message}`, 'SandboxCreateFailed', false);
    if (op === 'policy') return new SandboxError(`${what} rejected: ${message}`, 'PolicyRejected', false);
    return new SandboxError(`${what} rejected: ${message}`, 'DriverUnavailable', false);
  }
  if (op === 'create') return new SandboxError(`${what} failed: ${message}`, 'SandboxCreateFailed', true);
  if (op === 'policy') return new SandboxError(`${what} rejected: ${message}`, 'PolicyRejected', false);
  return new SandboxError(`${what} failed: ${message}`, 'DriverUnavailable', true);
}

export function tail(s: string): string {
  return s.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
}
