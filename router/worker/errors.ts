// The worker's own failures, each a WhippetError with a stable WORKER_ERR_ code. They are never an HTTP
// answer (the worker answers nobody); the status says what kind of failure it is, for logs and records.

import { WhippetError } from '../../common/errors.js';

export type WorkerErrorCode = 'WORKER_ERR_CALLBACK_REFUSED';

export class WorkerError extends WhippetError {
  declare readonly code: WorkerErrorCode;
  constructor(code: WorkerErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** The callback host is, or resolves to, a link-local or cloud metadata address (callback_allow_link_local is off). */
export class CallbackRefusedError extends WorkerError {
  constructor(readonly host: string, readonly address: string) {
    super('WORKER_ERR_CALLBACK_REFUSED', `callback host ${host} is a link-local or metadata address (${address}); set callback_allow_link_local=true to allow it`, 403);
  }
}
