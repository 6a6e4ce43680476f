// The local stack's failures (`whippet up`, `build`, `new`): one class per case, each a WhippetError
// with a STACK_ERR_ code, so the CLI can tell a user's mistake (print it, exit 1) from a bug (throw).

import { WhippetError } from '../common/errors.js';

export type StackErrorCode =
  | 'STACK_ERR_INVALID'
  | 'STACK_ERR_DOCKERFILE'
  | 'STACK_ERR_WATCHDOG_START'
  | 'STACK_ERR_NEW_REFUSED'
  | 'STACK_ERR_BUSY'
  | 'STACK_ERR_PORT_IN_USE';

// The statuses say whose fault it is, as an HTTP client would read them: 400 for what the user wrote
// (stack file, Dockerfile, arguments), 500 for a function that would not start.

/** Base of the local stack's errors: the CLI prints these and exits 1; anything else is a bug. */
export class LocalStackError extends WhippetError {
  declare readonly code: StackErrorCode;
  constructor(code: StackErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** A stack file that cannot be used: every problem, each naming the function and key. */
export class StackError extends LocalStackError {
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super('STACK_ERR_INVALID', `${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`, 400);
  }
}

/** A Dockerfile whose ENV lines `whippet up` cannot read. */
export class DockerfileError extends LocalStackError {
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super('STACK_ERR_DOCKERFILE', `${file}: ${reason}`, 400, options);
  }
}

/** A watchdog that did not come up: its exit and the last lines it wrote. */
export class WatchdogStartError extends LocalStackError {
  constructor(name: string, reason: string, readonly tail: string) {
    super('STACK_ERR_WATCHDOG_START', `function ${name}: the watchdog ${reason}${tail === '' ? '' : `:\n${tail}`}`, 500);
  }
}

/** A `whippet new` that cannot go ahead; nothing was written. */
export class NewFunctionError extends LocalStackError {
  constructor(message: string) {
    super('STACK_ERR_NEW_REFUSED', message, 400);
  }
}


/** Another `whippet up` owns this stack (its lock, .whippet/up.lock, names a live process). */
export class StackBusyError extends LocalStackError {
  constructor(readonly pid: number, url: string | undefined, lock: string) {
    super('STACK_ERR_BUSY', `another whippet up (pid ${pid}${url === undefined ? '' : `, router ${url}`}) runs this stack; stop it first (Ctrl-C there, or kill ${pid}). Lock: ${lock}`, 409);
  }
}

/** The router's port is taken; nothing was built or started. */
export class PortInUseError extends LocalStackError {
  constructor(readonly port: number, host: string, options?: ErrorOptions) {
    super('STACK_ERR_PORT_IN_USE', `port ${port} on ${host} is in use (by another whippet up or another program); pick another with --port`, 409, options);
  }
}
