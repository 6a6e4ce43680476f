// The web dashboard at /ui/: the built page (assets.ts) and its JSON and event-stream API under
// /ui/api/. The router mounts it with one route and checks Basic auth first, as for /system.
// Nothing here runs while nobody has the page open, except a histogram snapshot every 10 s.
//
//   GET  /ui/                       the page (hash routes: #/functions, #/calls, #/calls/{id}, #/queue, #/logs)
//   GET  /ui/assets/{file}          its script and style
//   GET  /ui/api/info               what this router has: queue backend, logs
//   GET  /ui/api/functions          functions with health, replicas, counts, last minutes (p50/p99, errors)
//   GET  /ui/api/calls[?function=&status=&limit=]   GET /ui/api/calls/stream (SSE)   GET /ui/api/calls/{id}
//   POST /ui/api/calls/{id}/cancel | /retry         (X-Whippet-UI: 1, same origin)
//   GET  /ui/api/queue/stream       queue samples (SSE)
//   GET  /ui/api/logs               GET /ui/api/logs/stream?function= (SSE, `whippet up` only)

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AsyncDisabledError, MethodNotAllowedError, NotFoundError } from '../errors.js';
import type { FunctionStats } from '../function-stats.js';
import type { RouterMetrics } from '../metrics.js';
import type { Queue } from '../queue/index.js';
import type { FunctionResolver } from '../resolver.js';
import { setRetryAfter } from '../async/errors.js';
import { handleCalls } from './api-calls.js';
import { functionRows } from './api-functions.js';
import { loadAssets, sendAsset, type Assets } from './assets.js';
import { UiNotBuiltError } from './errors.js';
import { createFunctionSampler } from './function-sampler.js';
import type { FunctionLogs, LogEntry } from '../function-logs.js';
import { createQueueSampler, type QueueSampler } from './queue-sampler.js';
import { sendUiJson } from './respond.js';
import { LiveStreams, openEventStream } from './sse.js';

/** What the process gives the dashboard. */
export interface DashboardOptions {
  /** The async queue; without it the calls and queue pages say async is off. */
  readonly queue?: Queue;
  /** Function logs (`whippet up`); without it the logs page says there are none. */
  readonly logs?: FunctionLogs;
  /** The built page; defaults to dist/ui/. */
  readonly assets?: Assets;
  /** Queue chart interval (tests). */
  readonly queueSampleMs?: number;
}

/** What the router gives the dashboard when it mounts it. */
export interface DashboardContext {
  readonly resolver: FunctionResolver;
  readonly stats: FunctionStats;
  readonly metrics: RouterMetrics;
  /** The router's namespace: `?function=name.namespace` is read as /system/calls reads it. */
  readonly functionNamespace?: string;
}

/** The mounted dashboard: `path` is what follows /ui. */
export interface UiRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void>;
  /** End every open live view and stop sampling (the router is closing). */
  close(): void;
}

/** Mount for createRouter's `ui` dependency. */
export type UiMount = (ctx: DashboardContext) => UiRoutes;

/** The dashboard, ready to mount. */
export function createDashboard(options: DashboardOptions = {}): UiMount {
  return (ctx) => {
    // Read and compressed on the first page request, not at start: a router nobody opens the page of pays nothing.
    let assets = options.assets;
    const sampler = createFunctionSampler(ctx.metrics);
    const queueSampler: QueueSampler | undefined = options.queue === undefined ? undefined : createQueueSampler(options.queue, options.queueSampleMs);
    const streams = new LiveStreams();
    const page = (req: IncomingMessage, res: ServerResponse, name: string, cache: string): void => {
      const asset = (assets ??= loadAssets()).get(name);
      if (asset === undefined) throw name === 'index.html' ? new UiNotBuiltError() : new NotFoundError(`/ui/assets/${name}`);
      sendAsset(req, res, asset, cache);
    };
    return {
      async handle(req, res, path, query) {
        if (path === '') {
          res.writeHead(308, { Location: '/ui/', 'Content-Length': 0 });
          res.end();
          return;
        }
        if (path.startsWith('/api/calls')) {
          if (options.queue === undefined) throw new AsyncDisabledError();
          try {
            return await handleCalls(req, res, path, query, options.queue, streams, ctx.functionNamespace);
          } catch (err) {
            setRetryAfter(res, err); // a queue locked by another process: the same 503 + Retry-After as /system/calls
            throw err;
          }
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', ['GET', 'HEAD']);
        if (path === '/' || path === '/index.html') return page(req, res, 'index.html', 'no-cache');
        const asset = /^\/assets\/([-\w.]+)$/.exec(path);
        if (asset !== null) return page(req, res, asset[1]!, 'no-cache');
        switch (path) {
          case '/api/info':
            return sendUiJson(res, 200, { queue: options.queue?.backend ?? null, logs: options.logs !== undefined, queueSampleMs: queueSampler?.intervalMs ?? null });
          case '/api/functions':
            return sendUiJson(res, 200, await functionRows({ resolver: ctx.resolver, stats: ctx.stats, sampler }));
          case '/api/queue/stream': {
            if (queueSampler === undefined) throw new AsyncDisabledError();
            const s = streams.track(openEventStream(req, res));
            if (s.closed) return; // the router closed while this request was on its way: nothing to follow
            s.send('history', queueSampler.history());
            const off = await queueSampler.follow((sample) => s.send('sample', sample));
            s.onClose(off);
            return;
          }
          case '/api/logs':
            return sendUiJson(res, 200, { available: options.logs !== undefined, functions: options.logs?.functions() ?? [] });
          case '/api/logs/stream': {
            const name = new URLSearchParams(query).get('function') ?? '';
            if (options.logs === undefined) throw new NotFoundError('/ui/api/logs/stream (logs exist only under whippet up)');
            const s = streams.track(openEventStream(req, res));
            s.send('lines', options.logs.read(name).map(logLine));
            s.onClose(options.logs.follow(name, (entry) => s.send('line', logLine(entry)), () => s.end()));
            return;
          }
        }
        throw new NotFoundError(`/ui${path}`);
      },
      close() {
        sampler.close();
        queueSampler?.close();
        streams.endAll();
      },
    };

  };
}

/** One log line as the page shows it: when (epoch ms) and the text the watchdog wrote. */
function logLine(entry: LogEntry): { at: number; line: string } {
  return { at: Date.parse(entry.timestamp), line: entry.text };
}
