// The invoke panel: a small HTTP client for one function. Sync calls go to /function/{name}, async ones
// to /async-function/{name} (with an optional X-Callback-Url); the answer is shown as it came.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { duration } from './format.js';

const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'];

interface Answer { status: number; statusText: string; headers: [string, string][]; body: string; ms: number; callId: string | null }

/** Parse `Name: value` lines; blank lines are skipped, a line without a colon is an error. */
export function parseHeaders(text: string): [string, string][] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line without "name: value": ${line}`);
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()] as [string, string];
  });
}

export function InvokePanel({ name }: { name: string }) {
  const [method, setMethod] = useState('POST');
  const [path, setPath] = useState('');
  const [query, setQuery] = useState('');
  const [headers, setHeaders] = useState('Content-Type: text/plain');
  const [body, setBody] = useState('');
  const [mode, setMode] = useState<'sync' | 'async'>('sync');
  const [callback, setCallback] = useState('');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);

  const send = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true); setError(null); setAnswer(null);
    try {
      const h = new Headers(parseHeaders(headers));
      if (mode === 'async' && callback.trim() !== '') h.set('X-Callback-Url', callback.trim());
      const suffix = path === '' || path.startsWith('/') ? path : `/${path}`;
      const q = query.replace(/^\?/, '');
      const url = `/${mode === 'sync' ? 'function' : 'async-function'}/${encodeURIComponent(name)}${suffix}${q === '' ? '' : `?${q}`}`;
      const started = performance.now();
      const res = await fetch(url, { method, headers: h, body: method === 'GET' || method === 'HEAD' ? undefined : body, cache: 'no-store' });
      const text = await res.text();
      setAnswer({
        status: res.status, statusText: res.statusText, headers: [...res.headers.entries()], body: text,
        ms: performance.now() - started, callId: mode === 'async' && res.status === 202 ? res.headers.get('x-call-id') : null,
      });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="panel invoke" aria-labelledby="invoke-title">
      <h2 id="invoke-title">Invoke <code>${name}</code></h2>
      <form onSubmit=${send}>
        <div class="row">
          <label>Method <select name="method" value=${method} onChange=${(e: Event) => setMethod((e.target as HTMLSelectElement).value)}>
            ${(mode === 'async' ? METHODS.filter((m) => m !== 'GET') : METHODS).map((m) => html`<option key=${m} value=${m}>${m}</option>`)}
          </select></label>
          <label class="grow">Path <input name="path" placeholder="/" value=${path} onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)} /></label>
          <label class="grow">Query <input name="query" placeholder="a=1&b=2" value=${query} onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)} /></label>
        </div>
        <label>Headers (one per line)
          <textarea name="headers" rows="2" value=${headers} onInput=${(e: Event) => setHeaders((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <label>Body
          <textarea name="body" rows="4" value=${body} onInput=${(e: Event) => setBody((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <fieldset class="row">
          <legend>Mode</legend>
          <label><input type="radio" name="mode" value="sync" checked=${mode === 'sync'} onChange=${() => setMode('sync')} /> sync</label>
          <label><input type="radio" name="mode" value="async" checked=${mode === 'async'} onChange=${() => { setMode('async'); if (method === 'GET') setMethod('POST'); }} /> async</label>
          ${mode === 'async' && html`<label class="grow">Callback URL <input name="callback" type="url" placeholder="http://…" value=${callback}
            onInput=${(e: Event) => setCallback((e.target as HTMLInputElement).value)} /></label>`}
        </fieldset>
        <button type="submit" disabled=${busy}>${busy ? 'Sending…' : 'Send'}</button>
      </form>
      ${error !== null && html`<p class="error" role="alert">${error}</p>`}
      ${answer !== null && html`
        <div class="answer" aria-live="polite">
          <p><span class=${`badge code-${Math.floor(answer.status / 100)}xx`} data-testid="status">${answer.status} ${answer.statusText}</span>
            <span class="muted"> in ${duration(answer.ms)}</span>
            ${answer.callId !== null && html` · <a href=${`#/calls/${encodeURIComponent(answer.callId)}`}>call ${answer.callId}</a>`}</p>
          <details><summary>Headers (${answer.headers.length})</summary>
            <pre>${answer.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}</pre></details>
          <pre class="body" data-testid="body">${answer.body}</pre>
        </div>`}
    </section>
  `;
}
