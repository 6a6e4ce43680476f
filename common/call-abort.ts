// A cancellation signal made once per call on the worker's path (a lost lease, a callback's deadline; an
// invocation's deadline was one until its handler kept the reason itself, router/invoker.ts). On Node 20 an
// AbortController with the listeners a call puts on it costs ~6 µs (its AbortSignal is an EventTarget); the
// worker made three per drained call, ~8 % of its CPU. This is an EventEmitter with `aborted` and `reason`,
// which undici takes as a request's `signal` as it takes an AbortSignal (undici's documented
// `signal: AbortSignal | EventEmitter`), at ~0.3 µs for the same work.

import { EventEmitter } from 'node:events';

export class CallAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  /** Abort once: later calls change nothing. Without a reason, an AbortError as AbortController gives. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.emit('abort');
  }
}

/** Either kind of signal: the paths that take one from a caller accept both. */
export type AnySignal = AbortSignal | CallAbort;

/** Run `fn` once when `signal` aborts, at once if it already has; returns what removes it. */
export function onAbort(signal: AnySignal | undefined, fn: () => void): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    fn();
    return noop;
  }
  if (signal instanceof CallAbort) {
    // A closure, not once(): EventEmitter's once() binds a wrapper per call (~1 % of a draining worker's samples).
    const listener = (): void => { signal.removeListener('abort', listener); fn(); };
    signal.on('abort', listener);
    return () => { signal.removeListener('abort', listener); };
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => { signal.removeEventListener('abort', fn); };
}

/** An AbortSignal that follows `signal` (itself when it is one), for an API that takes nothing else. */
export function asAbortSignal(signal: AnySignal): AbortSignal {
  if (!(signal instanceof CallAbort)) return signal;
  const follower = new AbortController();
  onAbort(signal, () => follower.abort(signal.reason));
  return follower.signal;
}

function noop(): void {}
