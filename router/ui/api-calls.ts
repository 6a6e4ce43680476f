// The dashboard's view of async calls: a list, a live stream of changes (fed by queue.watch(), never by
// re-reading records), one call with its result, and the two actions the calls API has (cancel, retry),
// behind the cross-site check. Records are shown exactly as /system/calls shows them (viewCall).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCallsQuery } from '../async/calls-api.js';
import { viewCall } from '../async/call-view.js';
import { CALL_ID_PATTERN } from '../async/call-id.js';
import { MethodNotAllowedError, NotFoundError } from '../errors.js';
import { CallNotFoundError, type CallChange, type CallRecord, type CallStatus, type Queue } from '../queue/index.js';
import { checkSameOrigin } from './csrf.js';
import { sendUiJson } from './respond.js';
import { openEventStream, type EventStream, type LiveStreams } from './sse.js';

/** Answer /ui/api/calls…; `streams` collects open event streams so the router's close can end them. */
export async function handleCalls(req: IncomingMessage, res: ServerResponse, path: string, query: string,
  queue: Queue, streams: LiveStreams, namespace?: string): Promise<void> {
  const method = req.method ?? '';
  const read = (): void => { if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(method, ['GET', 'HEAD']); };
  if (path === '/api/calls') {
    read();
    const records = await queue.list({ limit: 100, ...parseCallsQuery(query, namespace) });
    return sendUiJson(res, 200, records.map((r) => viewCall(r, false)));
  }
  if (path === '/api/calls/stream') {
    read();
    return streamCalls(req, res, parseCallsQuery(query, namespace), queue, streams);
  }
  const m = /^\/api\/calls\/([^/]+)(?:\/(cancel|retry))?$/.exec(path);
  if (m === null) throw new NotFoundError(`/ui${path}`);
  const id = decodeURIComponent(m[1]!);
  if (!CALL_ID_PATTERN.test(id)) throw new CallNotFoundError(id);
  if (m[2] !== undefined) {
    if (method !== 'POST') throw new MethodNotAllowedError(method, ['POST']);
    checkSameOrigin(req);
    const record = await (m[2] === 'cancel' ? queue.cancel(id) : queue.redrive(id));
    return sendUiJson(res, 200, viewCall(record, false));
  }
  read();
  const record = await queue.get(id);
  if (record === null) throw new CallNotFoundError(id);
  sendUiJson(res, 200, viewCall(record, true));
}

async function streamCalls(req: IncomingMessage, res: ServerResponse, filter: ReturnType<typeof parseCallsQuery>,
  queue: Queue, streams: LiveStreams): Promise<void> {
  const statuses = filter.status === undefined ? null : new Set<CallStatus>(filter.status);
  const wanted = (c: CallChange): boolean => c.record !== null
    && (filter.functionName === undefined || c.functionName === filter.functionName);
  // Subscribe before the snapshot: a change that lands in between is sent twice, never lost.
  const pending: CallChange[] = [];
  let stream: EventStream | null = null;
  const unwatch = await queue.watch((c) => {
    if (!wanted(c)) return;
    if (stream === null) pending.push(c);
    else send(stream, c);
  });
  const send = (s: EventStream, c: CallChange): void => {
    // The record as it is now (changes between two reads arrive as one state). A call that left the
    // filtered statuses is still sent, marked, so the page can drop it.
    s.send('call', { ...viewCall(c.record!, false), matches: statuses === null || statuses.has(c.record!.status) });
  };
  let records: CallRecord[];
  try {
    records = await queue.list({ limit: 100, ...filter });
  } catch (err) {
    unwatch();
    throw err;
  }
  const s = streams.track(openEventStream(req, res));
  s.onClose(unwatch);
  s.send('snapshot', records.map((r) => viewCall(r, false)));
  stream = s;
  for (const c of pending) send(s, c);
}
