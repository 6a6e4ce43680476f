// The one way a test waits for a state that no event announces: poll a check until it holds, bounded.

import { setTimeout as sleep } from 'node:timers/promises';

type Check<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * How to poll: a number is the interval in ms (20 unless told). `checkMayThrow` makes a check that throws
 * count as "not yet" (a server still starting refuses connections) instead of ending the wait; the last
 * error is named when the wait times out.
 */
export type PollOptions = number | { readonly intervalMs?: number; readonly checkMayThrow?: boolean };

const settings = (options: PollOptions): { intervalMs: number; checkMayThrow: boolean } =>
  typeof options === 'number' ? { intervalMs: options, checkMayThrow: false } : { intervalMs: options.intervalMs ?? 20, checkMayThrow: options.checkMayThrow ?? false };

/** Polls until `check` holds; the held value, or undefined with the last error once `timeoutMs` passed. */
async function poll<T>(check: Check<T>, timeoutMs: number, options: PollOptions): Promise<{ value?: T; lastError?: unknown }> {
  const { intervalMs, checkMayThrow } = settings(options);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return { value };
    } catch (err) {
      if (!checkMayThrow) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) return { lastError };
    await sleep(intervalMs);
  }
}

/**
 * Polls `check` (every `intervalMs`, 20 ms unless told) until it returns a value other than
 * undefined/false and returns that value; throws after `timeoutMs`, naming `what` it waited for.
 */
export async function waitFor<T>(check: Check<T>, timeoutMs: number, what: string, options: PollOptions = 20): Promise<T> {
  const { value, lastError } = await poll(check, timeoutMs, options);
  if (value !== undefined) return value;
  const cause = lastError === undefined ? '' : ` (last check failed: ${String(lastError)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

/** The same poll for a test that asserts on the outcome itself: true once `check` holds, false after `timeoutMs`. */
export async function holdsWithin(check: Check<unknown>, timeoutMs: number, options: PollOptions = 20): Promise<boolean> {
  return (await poll(check, timeoutMs, options)).value !== undefined;
}
