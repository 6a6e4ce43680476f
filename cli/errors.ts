// The command line's own failures, and the one mapping from any error to an exit code: a usage error
// prints the command's usage (exit 2), a failure the project knows prints one line (exit 1), anything
// else is a bug and keeps its stack trace. CLI errors never become HTTP responses; their `status`
// follows the HTTP meaning only so every WhippetError reads the same.

import { WhippetError } from '../common/errors.js';
import { ConfigError } from '../common/options.js';

export type CliErrorCode = 'CLI_ERR_USAGE' | 'CLI_ERR_REFUSED' | 'CLI_ERR_ROUTER_UNREACHABLE';

export class CliError extends WhippetError {
  declare readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** A wrong argument yargs cannot see (a bad --port value, --callback without --async): usage, exit 2. */
export class UsageError extends CliError {
  constructor(message: string) { super('CLI_ERR_USAGE', message, 400); }
}

/** The command cannot go ahead (unknown template, a stack file it cannot use); nothing was changed. */
export class RefusedError extends CliError {
  constructor(message: string, options?: ErrorOptions) { super('CLI_ERR_REFUSED', message, 422, options); }
}

/** No answer from the router at --gateway. */
export class RouterUnreachableError extends CliError {
  constructor(message: string, options?: ErrorOptions) { super('CLI_ERR_ROUTER_UNREACHABLE', message, 502, options); }

  /** The one wording of it for every command: the router's address, why (a code such as ECONNREFUSED), what to check. */
  static at(gateway: string, reason: string, cause: unknown): RouterUnreachableError {
    return new RouterUnreachableError(`cannot reach the router at ${gateway} (${reason}); is \`whippet up\` running? (--gateway or OPENFAAS_URL)`, { cause });
  }
}

/** Where a failed command reports: its name for the message, its usage for usage errors. */
export interface FailureOutput {
  readonly prefix: string;
  readonly showUsage: () => void;
  readonly write: (text: string) => void;
}

/** The exit code for an error a command threw; rethrows what no one expected. */
export function exitCodeFor(err: unknown, out: FailureOutput): number {
  if (err instanceof UsageError) {
    out.showUsage();
    out.write(`\n${err.message}\n`);
    return 2;
  }
  const listen = err as NodeJS.ErrnoException & { port?: number };
  if (listen.code === 'EADDRINUSE' && listen.syscall === 'listen') {
    out.write(`${out.prefix}: port ${listen.port ?? ''} is in use; pick another with --port\n`);
    return 1;
  }
  if (err instanceof WhippetError || err instanceof ConfigError) {
    out.write(`${out.prefix}: ${err.message}\n`);
    return 1;
  }
  throw err;
}
