// GET /system/logs?name=&namespace=&follow=&tail=&since= as the provider streams it: one JSON LogEntry
// per line (application/x-ndjson); follow=true keeps the stream open for new lines.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadQueryError } from './async/errors.js';
import { LogsUnavailableError } from './errors.js';
import type { LogEntry } from './function-logs.js';
import { findFunction } from './system-functions.js';
import type { SystemContext } from './system.js';

// Go's json.Decoder skips whitespace between objects, so a bare newline keeps an idle follow stream
// from hitting write_timeout (no progress) without adding a log entry.
const KEEPALIVE_MS = 15_000;

function flag(raw: string | null, key: string): boolean {
  if (raw === null || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new BadQueryError(`${key} must be true, false, 1 or 0, got ${JSON.stringify(raw)}`);
}

/** Answer one logs request; ends when the lines are written, or (follow) when the client or the logs close. */
export async function handleLogs(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, ctx: SystemContext): Promise<void> {
  const name = params.get('name');
  if (name === null || name === '') throw new BadQueryError('name is required: /system/logs?name=<function>');
  const fn = findFunction(ctx, name, params.get('namespace'));
  if (ctx.functionLogs === undefined) throw new LogsUnavailableError();
  const follow = flag(params.get('follow'), 'follow');
  const tailRaw = params.get('tail');
  if (tailRaw !== null && tailRaw !== '' && !/^-?\d+$/.test(tailRaw)) throw new BadQueryError(`tail must be an integer (≤ 0 = all), got ${JSON.stringify(tailRaw)}`);
  const sinceRaw = params.get('since');
  const sinceMs = sinceRaw === null || sinceRaw === '' ? undefined : Date.parse(sinceRaw);
  if (Number.isNaN(sinceMs)) throw new BadQueryError(`since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got ${JSON.stringify(sinceRaw)}`);
  const instance = params.get('instance');
  const wanted = (e: LogEntry): boolean => instance === null || instance === '' || e.instance === instance;

  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' });
  if (req.method === 'HEAD') { res.end(); return; }
  for (const e of ctx.functionLogs.read(fn.name, { sinceMs, tail: tailRaw === null || tailRaw === '' ? 0 : Number(tailRaw) })) {
    if (wanted(e)) res.write(`${JSON.stringify(e)}\n`);
  }
  if (!follow) { res.end(); return; }
  await new Promise<void>((resolve) => {
    const keepalive = setInterval(() => res.write('\n'), KEEPALIVE_MS);
    const end = (): void => {
      clearInterval(keepalive);
      unsubscribe();
      resolve();
    };
    const unsubscribe = ctx.functionLogs!.follow(fn.name, (e) => { if (wanted(e)) res.write(`${JSON.stringify(e)}\n`); }, () => { end(); res.end(); });
    res.once('close', end);
  });
}
