/**
 * Bad input from a person (flags, environment, scenario files): permanent, so it is never
 * retried, and the CLI exits 2 with the message, which names the field.
 */
export class InputError extends Error {
  readonly exitCode = 2;
  readonly nonRetryable = true;
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}
