// The one way a test waits for a state that no event announces: poll a check until it holds, bounded.

import { setTimeout as sleep } from 'node:timers/promises';

type Check<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * Polls `check` (every `intervalMs`, 20 ms unless told) until it returns a value other than
 * undefined/false and returns that value; throws after `timeoutMs`, naming `what` it waited for.
 */
export async function waitFor<T>(check: Check<T>, timeoutMs: number, what: string, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The same poll for a test that asserts on the outcome itself: true once `check` holds, false after `timeoutMs`. */
export async function holdsWithin(check: Check<unknown>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
