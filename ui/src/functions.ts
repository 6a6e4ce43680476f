// Functions: health, replicas, inflight, counts and the last minutes (calls, error rate, p50/p99),
// refreshed every 2 s, with the invoke panel for the selected function.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { API, getJson, useInterval } from './api.js';
import { duration, percent } from './format.js';
import { InvokePanel } from './invoke.js';

export interface FunctionRow {
  name: string; upstream: string; health: string; replicas: number | null; inflight: number; invocationCount: number;
  lastStatus: number | null; lastSeen: string | null;
  window: { total: number; seconds: number; invocations: number; errorRate: number | null; p50Ms: number | null; p99Ms: number | null } | null;
}

export function FunctionsPage({ selected }: { selected: string | null }) {
  const [rows, setRows] = useState<FunctionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [logs, setLogs] = useState(false);
  useEffect(() => { getJson<{ logs: boolean }>(`${API}/info`).then((i) => setLogs(i.logs), () => undefined); }, []);
  useInterval(() => {
    getJson<FunctionRow[]>(`${API}/functions`).then((r) => { setRows(r); setError(null); }, (e: Error) => setError(e.message));
  }, 2000);
  const current = selected ?? rows?.[0]?.name ?? null;
  const minutes = rows?.find((r) => r.window !== null)?.window?.seconds;
  return html`
    <h1>Functions</h1>
    ${error !== null && html`<p class="error" role="alert">${error}</p>`}
    ${rows === null ? html`<p>Loading…</p>` : rows.length === 0 ? html`<p>No functions known to this router.</p>` : html`
      <div class="scroll">
        <table class="functions">
          <caption>Invocations: since the router started (sync calls and async attempts); recent, errors, p50 and p99: the last ${minutes === undefined ? '5 minutes' : duration(minutes * 1000)}</caption>
          <thead><tr>
            <th scope="col">Function</th><th scope="col">Health</th><th scope="col">Replicas</th><th scope="col">In flight</th>
            <th scope="col">Invocations</th><th scope="col">Recent</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p99</th>${logs && html`<th scope="col">Logs</th>`}
          </tr></thead>
          <tbody>${rows.map((r) => html`
            <tr key=${r.name} class=${r.name === current ? 'selected' : ''} data-function=${r.name}>
              <th scope="row"><a href=${`#/functions/${encodeURIComponent(r.name)}`} title=${r.upstream}>${r.name}</a></th>
              <td><span class=${`badge health-${r.health}`}>${r.health}</span></td>
              <td>${r.replicas ?? '—'}</td>
              <td>${r.inflight}</td>
              <td>${r.window?.total ?? r.invocationCount}</td>
              <td>${r.window?.invocations ?? 0}</td>
              <td>${percent(r.window?.errorRate)}</td>
              <td>${duration(r.window?.p50Ms)}</td>
              <td>${duration(r.window?.p99Ms)}</td>
              ${logs && html`<td><a href=${`#/logs/${encodeURIComponent(r.name)}`} aria-label=${`logs of ${r.name}`}>tail</a></td>`}
            </tr>`)}
          </tbody>
        </table>
      </div>`}
    ${current !== null && html`<${InvokePanel} key=${current} name=${current} />`}
  `;
}
