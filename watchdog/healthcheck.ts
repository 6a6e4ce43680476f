// `--run-healthcheck` for Docker HEALTHCHECK: asks the running watchdog's /_/health on 127.0.0.1:port.

import { get } from 'node:http';

/** How long the probe may take before it counts as unhealthy. */
const PROBE_TIMEOUT_MS = 2000;

/** Resolves with a reason when unhealthy, or undefined when /_/health answered 200. */
export function checkHealth(port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  if (port === 0) return Promise.resolve('port is 0: set the port the watchdog listens on');
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/_/health', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `/_/health answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (err) => resolve(`/_/health failed: ${err.message}`));
  });
}
