// Shared steps of the async e2e tests: a scripted http-mode function behind a real watchdog, posting
// async calls, and reading call records from the router.

import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { deadPort, startCli, type Started } from './start-router.js';
import { startWatchdog, type Watchdog } from './start-watchdog.js';
import { waitFor } from './wait.js';

interface Teardown { teardown(fn: () => unknown): void }

export const SCRIPTED_FN = fileURLToPath(new URL('../async/fixtures/scripted-fn.mjs', import.meta.url));
export const FAST_FN = fileURLToPath(new URL('../async/fixtures/fast-fn.mjs', import.meta.url));

/** An http-mode watchdog running `script`; `direct` is the function's own URL (for /__stats). */
export async function startHttpFunction(t: Teardown, script: string, env: Record<string, string> = {}): Promise<{ wd: Watchdog; direct: string }> {
  const fnPort = await deadPort();
  const wd = await startWatchdog(t, {
    mode: 'http', fprocess: `node ${script}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort), ...env,
  });
  return { wd, direct: `http://127.0.0.1:${fnPort}` };
}

/** `whippet worker` with the given settings. */
export function startWorkerProcess(t: Teardown, env: Record<string, string>): Promise<Started> {
  return startCli(t, 'worker', env);
}

/** Invocations the scripted function saw, by call id. */
export async function fnStats(direct: string): Promise<Record<string, Array<{ path: string; at: number }>>> {
  const res = await request(`${direct}/__stats`);
  return await res.body.json() as Record<string, Array<{ path: string; at: number }>>;
}

export interface Posted { status: number; headers: Record<string, string | string[] | undefined>; body: string; callId: string }

/** POST (or another method) to /async-function/…; resolves with the router's answer. */
export async function postAsync(routerUrl: string, path: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {}): Promise<Posted> {
  const res = await request(`${routerUrl}/async-function/${path}`, {
    method: (options.method ?? 'POST') as 'POST', headers: options.headers, body: options.body ?? 'payload',
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body, callId: String(res.headers['x-call-id'] ?? '') };
}

/** GET /system/calls/{id} as JSON (null on 404). */
export async function getCall(routerUrl: string, id: string): Promise<CallView | null> {
  const res = await request(`${routerUrl}/system/calls/${encodeURIComponent(id)}`);
  if (res.statusCode === 404) { await res.body.dump(); return null; }
  return await res.body.json() as CallView;
}

/** Poll the record every 50 ms until `pred` holds; fails with the last record seen. */
export async function waitForCall(routerUrl: string, id: string, pred: (c: CallView) => boolean, timeoutMs: number, what: string): Promise<CallView> {
  let last: CallView | null = null;
  const check = async (): Promise<CallView | undefined> => {
    last = await getCall(routerUrl, id);
    return last !== null && pred(last) ? last : undefined;
  };
  return await waitFor(check, timeoutMs, what, 50).catch((err: Error) => {
    throw new Error(`${err.message}; last record: ${JSON.stringify(last)}`);
  });
}

/** The JSON shape of /system/calls/{id} the tests read. */
export interface CallView {
  id: string; functionName: string; method: string; path: string; query: string; status: string; error: string | null;
  headers: Record<string, string | string[]>;
  round: number; acceptedAt: number; startedAt: number | null; finishedAt: number | null;
  attempts: Array<{ number: number; round: number; startedAt: number; finishedAt: number | null; statusCode: number | null; error: string | null }>;
  lastStatusCode: number | null;
  result: { statusCode: number; headers: Record<string, string>; bodySize: number; bodyKept?: boolean; body?: string; encoding?: string } | null;
  callback: { state: string; attempts: number; lastStatusCode: number | null; lastError: string | null };
}
