// The call-records API under /system (basic auth, when on, is already checked by the router):
//   GET    /system/calls?function=&status=&limit=   newest first, without result bodies
//   GET    /system/calls/{id}                        one record, result body included
//   DELETE /system/calls/{id}                        cancel a queued call
//   POST   /system/calls/{id}/retry                  send a failed or expired call round again

import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError } from '../errors.js';
import { parseFunctionName } from '../resolver.js';
import { CALL_STATUSES, CallNotFoundError, type CallStatus, type Queue } from '../queue/index.js';
import type { SystemRoutes } from '../server.js';
import { sendJson } from '../system.js';
import { CALL_ID_PATTERN } from './call-id.js';
import { BadQueryError, setRetryAfter } from './errors.js';
import { viewCall } from './call-view.js';

/**
 * Parse ?function=&status=a,b&limit= into a list filter; BadQueryError names what is wrong. `status` may be
 * repeated (the lists add up); `function` and `limit` may not. With `namespace`, `function=name.namespace` is
 * read as the other routes read it (router/resolver.ts), and another namespace is a 404.
 */
export function parseCallsQuery(query: string, namespace?: string): { functionName?: string; status?: CallStatus[]; limit?: number } {
  const params = new URLSearchParams(query);
  const out: { functionName?: string; status?: CallStatus[]; limit?: number } = {};
  for (const key of params.keys()) {
    if (!['function', 'status', 'limit'].includes(key)) throw new BadQueryError(`unknown parameter ${JSON.stringify(key)}: use function, status, limit`);
  }
  for (const key of ['function', 'limit']) {
    if (params.getAll(key).length > 1) throw new BadQueryError(`${key} given more than once: give it once`);
  }
  const fn = params.get('function');
  if (fn !== null && fn !== '') out.functionName = namespace === undefined ? fn : parseFunctionName(fn, namespace);
  const status = params.getAll('status').filter((value) => value !== '').join(',');
  if (status !== '') {
    const list = status.split(',').map((word) => word.trim());
    const bad = list.find((word) => !(CALL_STATUSES as readonly string[]).includes(word));
    if (bad !== undefined) throw new BadQueryError(`unknown status ${JSON.stringify(bad)}: use ${CALL_STATUSES.join(', ')}`);
    out.status = list as CallStatus[];
  }
  const limit = params.get('limit');
  if (limit !== null && limit !== '') {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) throw new BadQueryError(`limit must be 1..1000, got ${JSON.stringify(limit)}`);
    out.limit = Number(limit);
  }
  return out;
}

/** The SystemRoutes hook the router server mounts under /system. */
export function createCallsApi(queue: Queue, namespace?: string): SystemRoutes {
  return {
    async handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<boolean> {
      try {
        return await route(req, res, path, query);
      } catch (err) {
        setRetryAfter(res, err);
        throw err;
      }
    },
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<boolean> {
    const method = req.method ?? '';
    if (path === '/calls' || path === '/calls/') {
      if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(method, ['GET', 'HEAD']);
      const filter = parseCallsQuery(query, namespace);
      const records = await queue.list(filter);
      sendJson(res, 200, records.map((record) => viewCall(record, false)));
      return true;
    }
    const callPath = /^\/calls\/([^/]+)(\/retry)?\/?$/.exec(path);
    if (callPath === null) return false;
    const id = decodeURIComponent(callPath[1]!);
    if (!CALL_ID_PATTERN.test(id)) throw new CallNotFoundError(id);
    if (callPath[2] !== undefined) {
      if (method !== 'POST') throw new MethodNotAllowedError(method, ['POST']);
      const record = await queue.redrive(id);
      sendJson(res, 202, viewCall(record, false));
      return true;
    }
    if (method === 'DELETE') {
      const record = await queue.cancel(id);
      sendJson(res, 200, viewCall(record, false));
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(method, ['GET', 'HEAD', 'DELETE']);
    const record = await queue.get(id);
    if (record === null) throw new CallNotFoundError(id);
    sendJson(res, 200, viewCall(record, true));
    return true;
  }
}
