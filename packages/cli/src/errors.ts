/**
 * An error meant for the user: printed as one line (`Error: …` unless `bare`), exit code as
 * Docker's CLI uses them: 1 for a failed operation, 125 for bad flags or arguments.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 125;

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
