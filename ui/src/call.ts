// One async call: its request, the attempts on a timeline, the result, the callback's state, and the
// actions the calls API has (cancel a queued call, retry a failed or expired one). Reloaded whenever
// the queue reports a change of this call.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { API, getJson, postAction, useEvents } from './api.js';
import type { CallView } from './calls.js';
import { clock, duration, headerLines } from './format.js';

export function CallPage({ id }: { id: string }) {
  const [call, setCall] = useState<CallView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const url = `${API}/calls/${encodeURIComponent(id)}`;
  const load = (): void => { getJson<CallView>(url).then((c) => { setCall(c); setError(null); }, (e: Error) => setError(e.message)); };
  useEffect(load, [id]);
  useEvents(call === null ? null : `${API}/calls/stream?function=${encodeURIComponent(call.functionName)}`, {
    call: (c: CallView) => { if (c.id === id) load(); },
  });
  const act = async (what: 'cancel' | 'retry'): Promise<void> => {
    setBusy(true); setNotice(null);
    try {
      const c = await postAction<CallView>(`${url}/${what}`);
      setNotice(what === 'cancel' ? 'Cancelled.' : 'Queued again.');
      setCall((prev) => (prev === null ? prev : { ...prev, ...c, result: c.result === null ? null : prev.result }));
      load();
    } catch (e) {
      setNotice((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (error !== null) return html`<h1>Call <code>${id}</code></h1><p class="error" role="alert">${error}</p><p><a href="#/calls">All calls</a></p>`;
  if (call === null) return html`<h1>Call <code>${id}</code></h1><p>Loading…</p>`;
  const target = `${call.method} /async-function/${call.functionName}${call.path}${call.query === '' ? '' : `?${call.query}`}`;
  return html`
    <p><a href="#/calls">← All calls</a></p>
    <h1>Call <code>${call.id}</code></h1>
    <p><span class=${`badge status-${call.status}`} data-testid="status">${call.status}</span> <code>${target}</code></p>
    ${call.error !== null && html`<p class="error">${call.error}</p>`}
    <div class="row actions">
      <button type="button" disabled=${busy || call.status !== 'queued'} onClick=${() => act('cancel')}>Cancel</button>
      <button type="button" disabled=${busy || (call.status !== 'failed' && call.status !== 'expired')} onClick=${() => act('retry')}>Retry</button>
      ${notice !== null && html`<span role="status">${notice}</span>`}
    </div>
    <dl class="facts">
      <dt>Accepted</dt><dd>${clock(call.acceptedAt)}</dd>
      <dt>Started</dt><dd>${clock(call.startedAt)}</dd>
      <dt>Finished</dt><dd>${clock(call.finishedAt)}</dd>
      ${call.nextAttemptAt !== null && html`<dt>Next attempt</dt><dd>${clock(call.nextAttemptAt)}</dd>`}
      <dt>Round</dt><dd>${call.round}</dd>
    </dl>
    <h2>Attempts</h2>
    <${Timeline} call=${call} />
    <h2>Result</h2>
    ${call.result === null ? html`<p class="muted">No result yet.</p>` : html`
      <p><span class=${`badge code-${Math.floor(call.result.statusCode / 100)}xx`}>${call.result.statusCode}</span> ${call.result.bodySize} bytes</p>
      <details><summary>Headers</summary><pre>${headerLines(call.result.headers).join('\n')}</pre></details>
      ${call.result.bodyKept === false ? html`<p class="muted">The body was too large to keep.</p>`
        : html`<pre class="body" data-testid="result">${call.result.encoding === 'base64' ? `(base64) ${call.result.body}` : call.result.body}</pre>`}`}
    <h2>Callback</h2>
    ${call.callbackUrl === null ? html`<p class="muted">No callback URL.</p>` : html`
      <dl class="facts">
        <dt>URL</dt><dd><code>${call.callbackUrl}</code></dd>
        <dt>State</dt><dd><span class=${`badge callback-${call.callback.state}`}>${call.callback.state}</span></dd>
        <dt>Attempts</dt><dd>${call.callback.attempts}</dd>
        <dt>Last status</dt><dd>${call.callback.lastStatusCode ?? '—'}</dd>
        ${call.callback.lastError !== null && html`<dt>Last error</dt><dd>${call.callback.lastError}</dd>`}
        <dt>Last attempt</dt><dd>${clock(call.callback.lastAttemptAt)}</dd>
      </dl>`}
    <h2>Request headers</h2>
    <pre>${headerLines(call.headers).join('\n')}</pre>
  `;
}

/** Attempts as bars on one time axis from acceptance to the end (or now). */
function Timeline({ call }: { call: CallView }) {
  if (call.attempts.length === 0) return html`<p class="muted">Not attempted yet.</p>`;
  const start = call.acceptedAt;
  const end = Math.max(call.finishedAt ?? 0, ...call.attempts.map((a) => a.finishedAt ?? Date.now()), start + 1);
  const pct = (t: number): number => ((t - start) / (end - start)) * 100;
  return html`
    <ol class="timeline" aria-label=${`attempts from ${clock(start)} to ${clock(end)}`}>
      ${call.attempts.map((a) => {
        const finished = a.finishedAt ?? Date.now();
        const ok = a.statusCode !== null && a.statusCode < 400;
        return html`<li key=${a.number}>
          <span class="label">#${a.number}${a.round > 0 ? ` (round ${a.round})` : ''}</span>
          <span class="track"><span class=${`bar ${a.finishedAt === null ? 'open' : ok ? 'ok' : 'bad'}`}
            style=${{ left: `${pct(a.startedAt)}%`, width: `${Math.max(0.5, pct(finished) - pct(a.startedAt))}%` }}></span></span>
          <span class="what">${clock(a.startedAt)} · ${duration(finished - a.startedAt)} · ${a.statusCode ?? 'no status'}${a.error === null ? '' : ` · ${a.error}`}</span>
        </li>`;
      })}
    </ol>`;
}
