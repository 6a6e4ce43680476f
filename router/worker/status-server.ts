// The standalone worker's own small HTTP server: /healthz (is the queue reachable) and /metrics, so a
// worker can be probed and scraped like the router.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { DatedResponse } from '../../common/dated-response.js';
import type { Queue } from '../queue/index.js';

/** Listen on `port` (0 = ephemeral); resolves with the server and the bound port. */
export async function startStatusServer(port: number, queue: Queue, registry: Registry): Promise<{ server: Server; port: number }> {
  const server = createServer({ ServerResponse: DatedResponse }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.setHeader('Allow', 'GET, HEAD'); send(405, 'text/plain', 'method not allowed\n'); return; }
    if (path === '/healthz') {
      queue.health().then(
        (health) => send(health.ok ? 200 : 503, 'application/json', `${JSON.stringify({ status: health.ok ? 'ok' : 'unhealthy', queue: health })}\n`),
        (err: Error) => send(503, 'application/json', `${JSON.stringify({ status: 'unhealthy', error: err.message })}\n`),
      );
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then((text) => send(200, registry.contentType, text), (err: Error) => send(500, 'text/plain', `${err.message}\n`));
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '0.0.0.0', () => resolve()); });
  return { server, port: (server.address() as AddressInfo).port };
}
