// Async calls, live: the list comes from one event stream (a snapshot, then every change the queue
// reports), filtered by function and status on the router. Nothing is polled.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { API, getJson, useEvents } from './api.js';
import { ago, duration } from './format.js';
import type { FunctionRow } from './functions.js';

export const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled'];

export interface CallView {
  id: string; functionName: string; method: string; path: string; query: string; status: string; error: string | null;
  acceptedAt: number; startedAt: number | null; finishedAt: number | null; nextAttemptAt: number | null; round: number;
  attempts: { number: number; round: number; startedAt: number; finishedAt: number | null; statusCode: number | null; error: string | null }[];
  lastStatusCode: number | null; callbackUrl: string | null; headers: Record<string, string | string[]>;
  result: { statusCode: number; headers: Record<string, string | string[]>; bodySize: number; body?: string; encoding?: string; bodyKept?: boolean } | null;
  callback: { state: string; attempts: number; lastStatusCode: number | null; lastError: string | null; lastAttemptAt: number | null };
  matches?: boolean;
}

const KEEP = 200;

export function CallsPage({ fn, status }: { fn: string; status: string }) {
  const [calls, setCalls] = useState<Map<string, CallView>>(new Map());
  const [live, setLive] = useState(false);
  const [names, setNames] = useState<string[]>([]);
  const [now, setNow] = useState(Date.now());
  useEffect(() => { getJson<FunctionRow[]>(`${API}/functions`).then((r) => setNames(r.map((f) => f.name)), () => undefined); }, []);
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  const params = new URLSearchParams();
  if (fn !== '') params.set('function', fn);
  if (status !== '') params.set('status', status);
  useEvents(`${API}/calls/stream?${params}`, {
    snapshot: (list: CallView[]) => setCalls(new Map(list.map((c) => [c.id, c]))),
    call: (c: CallView) => setCalls((prev) => {
      const next = new Map(prev);
      if (c.matches === false) next.delete(c.id);
      else next.set(c.id, c);
      return next;
    }),
  }, setLive);
  const setFilter = (key: 'function' | 'status', value: string): void => {
    const p = new URLSearchParams({ function: fn, status });
    p.set(key, value);
    location.hash = `#/calls?${p}`;
  };
  const rows = [...calls.values()].sort((a, b) => b.acceptedAt - a.acceptedAt).slice(0, KEEP);
  return html`
    <h1>Async calls <span class=${`live ${live ? 'on' : 'off'}`} aria-live="polite">${live ? 'live' : 'reconnecting…'}</span></h1>
    <form class="row filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Function <select name="function" value=${fn} onChange=${(e: Event) => setFilter('function', (e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        ${[...new Set([...names, ...(fn === '' ? [] : [fn])])].map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
      </select></label>
      <label>Status <select name="status" value=${status} onChange=${(e: Event) => setFilter('status', (e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        ${STATUSES.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}
      </select></label>
    </form>
    ${rows.length === 0 ? html`<p>No calls${fn !== '' || status !== '' ? ' match these filters' : ' yet'}.</p>` : html`
      <div class="scroll">
        <table class="calls">
          <thead><tr><th scope="col">Call</th><th scope="col">Function</th><th scope="col">Status</th><th scope="col">Attempts</th>
            <th scope="col">Code</th><th scope="col">Accepted</th><th scope="col">Took</th></tr></thead>
          <tbody>${rows.map((c) => html`
            <tr key=${c.id} data-call=${c.id}>
              <th scope="row"><a href=${`#/calls/${encodeURIComponent(c.id)}`}><code>${c.id}</code></a></th>
              <td>${c.functionName}</td>
              <td><span class=${`badge status-${c.status}`} data-testid="status">${c.status}</span></td>
              <td>${c.attempts.length}</td>
              <td>${c.lastStatusCode ?? '—'}</td>
              <td title=${new Date(c.acceptedAt).toISOString()}>${ago(c.acceptedAt, now)}</td>
              <td>${c.finishedAt === null ? '—' : duration(c.finishedAt - c.acceptedAt)}</td>
            </tr>`)}
          </tbody>
        </table>
      </div>`}
  `;
}
