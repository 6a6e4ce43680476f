// Run a started part until a signal stops it: SIGTERM drains (the part's full sequence), SIGINT drains
// without the health wait, and a second signal ends the process at once. Used by every long-running
// command (watchdog, router, worker, up), so the stop order lives in the part and the signals here.

import type { Logger } from '../common/log.js';

export type StopSignal = 'SIGTERM' | 'SIGINT';

/** What serve() needs of a running part. */
export interface Servable {
  drain(signal: StopSignal): Promise<void>;
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

/** Resolves with exit code 0 once the part has drained. */
export async function serve(part: Servable, options: ServeOptions): Promise<number> {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', ...(options.alsoOn ?? [])];
  let draining: Promise<void> | undefined;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (draining === undefined) {
        draining = part.drain(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
        void draining.then(resolve);
        return;
      }
      if (options.secondSignal === 'wait') return;
      options.log.warn('stopping now', { signal });
      options.kill?.();
      process.exit(1);
    };
    for (const signal of signals) process.on(signal, onSignal);
  });
  return 0;
}
