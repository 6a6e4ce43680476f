// The naive baseline: a bare node:http server that spawns `cat` with child_process for every request,
// streams the body in and buffers stdout out. Run as a script it prints `listening <port>` on stdout.

import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** Start the baseline server on `port` (0 = ephemeral). */
export async function startNaiveCatServer(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const child = spawn('cat', [], { stdio: 'pipe' });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => { res.writeHead(500).end(); });
    child.on('close', (code) => {
      res.writeHead(code === 0 ? 200 : 500, { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream' });
      res.end(Buffer.concat(chunks));
    });
    req.pipe(child.stdin);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await startNaiveCatServer(Number(process.env.PORT ?? 0));
  process.stdout.write(`listening ${port}\n`);
}
