// Logs under `whippet up`: the live tail of one function's watchdog (the last 500 lines, then new ones).

import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { API, getJson, useEvents } from './api.js';

interface Line { at: number; line: string }
const KEEP = 1000;

export function LogsPage({ fn }: { fn: string }) {
  const [info, setInfo] = useState<{ available: boolean; functions: string[] } | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [follow, setFollow] = useState(true);
  const end = useRef<HTMLPreElement>(null);
  useEffect(() => { getJson<{ available: boolean; functions: string[] }>(`${API}/logs`).then(setInfo, () => setInfo({ available: false, functions: [] })); }, []);
  const current = fn !== '' ? fn : info?.functions[0] ?? '';
  useEvents(info?.available === true && current !== '' ? `${API}/logs/stream?function=${encodeURIComponent(current)}` : null, {
    lines: (list: Line[]) => setLines(list),
    line: (l: Line) => setLines((prev) => [...prev.slice(-(KEEP - 1)), l]),
  });
  useLayoutEffect(() => { if (follow && end.current !== null) end.current.scrollTop = end.current.scrollHeight; }, [lines, follow]);
  if (info === null) return html`<h1>Logs</h1><p>Loading…</p>`;
  if (!info.available) return html`<h1>Logs</h1><p>This router has no function logs: they are shown when the router runs under <code>whippet up</code>. Elsewhere, read the functions' logs where they run (docker logs, kubectl logs).</p>`;
  return html`
    <h1>Logs</h1>
    <form class="row filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Function <select name="function" value=${current} onChange=${(e: Event) => { location.hash = `#/logs/${encodeURIComponent((e.target as HTMLSelectElement).value)}`; }}>
        ${info.functions.map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
      </select></label>
      <label><input type="checkbox" checked=${follow} onChange=${() => setFollow(!follow)} /> follow</label>
    </form>
    <pre class="logs" ref=${end} tabindex="0" aria-label=${`log of ${current}`}>${lines.map((l) => `${l.line}\n`).join('')}</pre>
  `;
}
