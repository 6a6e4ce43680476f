// The queue at a glance: depth (queued, running, dead letters kept) and rates (accepts, completions,
// retries, dead letters per second) as uPlot charts, from the router's samples (history, then live).

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { API, getJson, useEvents } from './api.js';

interface Sample { at: number; queued: number; running: number; deadLetters: number; accepted: number; completed: number; retried: number; deadLettered: number }

const KEEP = 900;

export function QueuePage() {
  const [info, setInfo] = useState<{ queue: string | null; queueSampleMs: number | null } | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => { getJson<typeof info>(`${API}/info`).then(setInfo, () => setInfo({ queue: null, queueSampleMs: null })); }, []);
  useEvents(info?.queue == null ? null : `${API}/queue/stream`, {
    history: (list: Sample[]) => setSamples(list.slice(-KEEP)),
    sample: (s: Sample) => setSamples((prev) => [...prev.slice(-(KEEP - 1)), s]),
  });
  if (info === null) return html`<h1>Queue</h1><p>Loading…</p>`;
  if (info.queue === null) return html`<h1>Queue</h1><p>Async calls are not enabled on this router (no queue).</p>`;
  const perSecond = 1000 / (info.queueSampleMs ?? 2000);
  const last = samples.at(-1);
  const x = samples.map((s) => s.at / 1000);
  return html`
    <h1>Queue <span class="muted">(${info.queue})</span></h1>
    <p class="summary" aria-live="polite" data-samples=${samples.length}>${last === undefined ? 'Waiting for the first sample…'
      : `${last.queued} queued · ${last.running} running · ${last.deadLetters} dead letters`}</p>
    <${Chart} title="Depth" data=${[x, samples.map((s) => s.queued), samples.map((s) => s.running), samples.map((s) => s.deadLetters)]}
      series=${[['queued', '#2f6fdf'], ['running', '#e09b16'], ['dead letters', '#c93a3a']]} />
    <${Chart} title="Per second" data=${[x, ...(['accepted', 'completed', 'retried', 'deadLettered'] as const).map((k) => samples.map((s) => s[k] * perSecond))]}
      series=${[['accepts/s', '#2f6fdf'], ['completions/s', '#2a9d4b'], ['retries/s', '#e09b16'], ['dead letters/s', '#c93a3a']]} />
  `;
}

function Chart({ title, data, series }: { title: string; data: number[][]; series: [string, string][] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const width = (): number => Math.max(280, el.clientWidth);
    plot.current = new uPlot({
      width: width(), height: 220, title,
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
      axes: [{}, { size: 50 }],
      scales: { y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] as [number, number] } },
    }, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 220 }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, []);
  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);
  return html`<figure class="chart"><div ref=${box} role="img" aria-label=${`${title}: ${series.map(([l]) => l).join(', ')}`}></div></figure>`;
}
