// A TCP port that was free a moment ago: for processes that must be told their port up front (http-mode
// upstreams in `whippet up`, test and benchmark fixtures). A pure leaf that cli, bench and tests share.
//
// The port is picked below the kernel's ephemeral range. A port read from listen(0) and closed again is
// back in that range, where the next listen(0) or outgoing connection on the machine may be given it
// before its owner binds it: then a load meant for one server reaches another (seen in CI, two test jobs
// side by side: 8,494 stray requests). Ports below the range are never handed out by the kernel, so only
// another caller of freePort() could pick the same one, and then one of the two fails with EADDRINUSE
// instead of receiving the other's traffic.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Linux's default ephemeral range starts at 32768; the ports picked lie in [FLOOR, the range's start).
const DEFAULT_EPHEMERAL_START = 32_768;
// Above the registered services a developer machine commonly runs (databases, brokers: 3306, 5432, 6379, 8080…).
const FLOOR = 10_000;
const TRIES = 20;

/** Where the kernel starts handing out ephemeral ports (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
export function ephemeralStart(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): number {
  try {
    const start = Number(read().trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 && start <= 65_535 ? start : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

/** Bind 127.0.0.1:port and close: the port, or null when it is taken. */
function tryBind(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err)));
    s.listen(port, '127.0.0.1', () => {
      const { port: bound } = s.address() as { port: number };
      s.close(() => resolve(bound));
    });
  });
}

/** A port below the ephemeral range that 127.0.0.1 can bind now; listen(0)'s port where that range leaves no room. */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const end = ephemeralStart();
  if (end - FLOOR >= 1_000) {
    for (let i = 0; i < TRIES; i++) {
      const port = await tryBind(FLOOR + Math.floor(random() * (end - FLOOR)));
      if (port !== null) return port;
    }
  }
  return (await tryBind(0))!;
}
