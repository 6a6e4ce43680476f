// Durations as OpenFaaS users write them: whole seconds ("30") or Go-style units ("500ms", "1m30s").

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parse "30", "500ms", "10s", "1m30s", "1.5s" into milliseconds; throws with the offending text. */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  let ms = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== at) { matched = -1; break; }
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched++;
  }
  if (matched <= 0) {
    throw new Error(`expected a duration such as 30 (seconds), 500ms, 10s or 1m30s, got ${JSON.stringify(raw)}`);
  }
  return Math.round(ms);
}

/** Render milliseconds the way parseDuration reads them, for logs and help text. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
