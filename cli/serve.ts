// Run a started part until a signal stops it: SIGTERM drains (the part's full sequence), SIGINT drains
// without the health wait, and a second signal ends the process at once. Used by every long-running
// command (watchdog, router, worker, up), so the stop order lives in the part and the signals here.

import type { Logger } from '../common/log.js';

export type StopSignal = 'SIGTERM' | 'SIGINT';

/** What serve() needs of a running part. */
export interface Servable {
  drain(signal: StopSignal): Promise<void>;
  /**
   * A part that serves before it has finished starting (the router listens before its queue is open):
   * rejects when the rest cannot start, the part having stopped itself; serve() then rejects with it.
   */
  readonly ready?: Promise<void>;
}

export interface ServeOptions {
  readonly log: Logger;
  /** Also stop on these (e.g. SIGHUP for `whippet up`, whose terminal may close); they drain like SIGTERM. */
  readonly alsoOn?: readonly NodeJS.Signals[];
  /**
   * A second signal: 'exit' runs `kill` and exits 1 at once; 'wait' keeps draining. The watchdog waits:
   * its function processes lead their own process groups, and exiting would orphan them.
   */
  readonly secondSignal?: 'exit' | 'wait';
  /** Stop what cannot be left behind (child process groups) before a second signal exits. */
  readonly kill?: () => void;
}

/**
 * Resolves with exit code 0 once the part has drained. `part` may still be starting: the signals are
 * taken from now on, and one that arrives before the part exists drains it as soon as it does.
 */
export async function serve(part: Servable | Promise<Servable>, options: ServeOptions): Promise<number> {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', ...(options.alsoOn ?? [])];
  let started: Servable | undefined;
  let stopWith: StopSignal | undefined;
  let draining: Promise<void> | undefined;
  let drained: () => void = () => {};
  const done = new Promise<void>((resolve) => { drained = resolve; });
  const drain = (): void => {
    if (started === undefined || stopWith === undefined || draining !== undefined) return;
    draining = started.drain(stopWith);
    void draining.then(drained);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopWith === undefined) {
      stopWith = signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
      drain();
      return;
    }
    if (options.secondSignal === 'wait') return;
    options.log.warn('stopping now', { signal });
    options.kill?.();
    process.exit(1);
  };
  for (const signal of signals) process.on(signal, onSignal);
  try {
    started = await part;
    drain();
    // A failed start rejects here; otherwise `ready` stays pending or resolved while the drain decides.
    await Promise.race([done, started.ready?.then(() => done) ?? done]);
    return 0;
  } catch (err) {
    for (const signal of signals) process.off(signal, onSignal);
    throw err;
  }
}
