// A TCP port that was free a moment ago: for processes that must be told their port up front (http-mode
// upstreams in `whippet up`, test and benchmark fixtures). A pure leaf that cli, bench and tests share.

import { createServer } from 'node:net';

/** Bind 127.0.0.1:0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
