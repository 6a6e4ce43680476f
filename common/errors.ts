// The one error base of the project. Every part names its failures as subclasses with a stable `code`
// under one prefix per part (WD_ERR_ watchdog, ROUTER_ERR_ router, QUEUE_ERR_ queues, WORKER_ERR_
// worker, STACK_ERR_ local stack, CLI_ERR_ command line) and the HTTP `status` a client gets.
// Callers match on the class (`instanceof`) or on `code`, never on message text.

/** A failure the project knows: `code` is stable and documented, `status` is its HTTP mapping. */
export class WhippetError extends Error {
  constructor(readonly code: string, message: string, readonly status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
