// Small formatting helpers. Every value reaches the DOM as text through Preact (never as HTML).

/** 12 ms, 1.5 s, 2 min. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Local time of day, with the date when not today. */
export function clock(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  const d = new Date(at);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** 3 s ago, 5 min ago. */
export function ago(at: number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '—';
  return `${duration(Math.max(0, now - at))} ago`;
}

/** 12.5 %, or — when there is nothing to divide. */
export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;
}

/** Header map (values may be lists) as lines `name: value`. */
export function headerLines(headers: Record<string, string | string[]> | null | undefined): string[] {
  if (headers === null || headers === undefined) return [];
  return Object.entries(headers).flatMap(([k, v]) => ([] as string[]).concat(v).map((x) => `${k}: ${x}`));
}
