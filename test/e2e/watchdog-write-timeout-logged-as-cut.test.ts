// A response cut by write_timeout is logged and counted as what happened,
// 504 with cut=write_timeout (and the status line the client already had, if any), not as the status the head
// carried or as a client that went away (499 stays for clients that really closed).
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { request } from 'undici';
import { freePort, handler, startWatchdog, type Watchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

const requestLine = (wd: Watchdog) => waitFor(() => wd.records().find((r) => r.msg === 'request'), 5000, 'the request log line');

async function metricsText(port: number): Promise<string> {
  const res = await request(`http://127.0.0.1:${port}/metrics`);
  return res.body.text();
}

/** GET that resolves with the status line (if one came) once the connection ends, however it ends. */
function getUntilClosed(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest(url, (res) => {
      res.resume();
      res.once('close', () => resolve(res.statusCode));
      res.once('error', () => {});
    });
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

t.test('streaming: a write_timeout cut after the head is logged and counted as 504, cut=write_timeout', async (t) => {
  const metricsPort = await freePort();
  const wd = await startWatchdog(t, { mode: 'streaming', fprocess: `sh -c 'echo started; sleep 5'`, write_timeout: '500ms', metrics_port: String(metricsPort) });
  t.equal(await getUntilClosed(`${wd.url}/`), 200, 'the client had the head before the cut');
  const line = await requestLine(wd);
  t.equal(line.status, 504, 'logged as a timeout');
  t.equal(line.cut, 'write_timeout');
  t.equal(line.sentStatus, 200, 'with the status line the client already had');
  const text = await metricsText(metricsPort);
  t.match(text, /http_requests_total\{code="504",method="get"\} 1/, 'counted as 504');
  t.notMatch(text, /http_requests_total\{code="(200|499)"/, 'not as 200 or as a client that went away');
});

t.test('serializing: a handler slower than write_timeout is logged as 504 with nothing sent', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh -c 'sleep 5'`, write_timeout: '500ms' });
  t.equal(await getUntilClosed(`${wd.url}/`), undefined, 'the connection was cut');
  const line = await requestLine(wd);
  t.equal(line.status, 504);
  t.equal(line.cut, 'write_timeout');
  t.notOk('sentStatus' in line);
});

t.test('a client that closes first is logged as 499, cut=client_closed', async (t) => {
  const pidFile = `${t.testdir()}/pid`;
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('sleep.sh')}`, PID_FILE: pidFile, SLEEP_SECONDS: '5' });
  const req = httpRequest(`${wd.url}/`);
  req.on('error', () => {});
  req.end();
  await waitFor(() => existsSync(pidFile), 5000, 'the handler to start');
  req.destroy();
  const line = await requestLine(wd);
  t.equal(line.status, 499);
  t.equal(line.cut, 'client_closed');
});

t.test('a response the watchdog cuts after the head for its own error is logged with that error, not as a client that closed', async (t) => {
  const metricsPort = await freePort();
  const wd = await startWatchdog(t, {
    mode: 'streaming', marshal_request: 'true', max_request_body: '1k', metrics_port: String(metricsPort),
    fprocess: `sh -c 'echo started; cat >/dev/null'`,
  });
  const sent = await new Promise<number | undefined>((resolve) => {
    const req = httpRequest(`${wd.url}/`, { method: 'POST' }); // chunked: only counting finds it too large
    req.on('response', (res) => {
      res.on('data', () => {}).on('error', () => {}).once('close', () => resolve(res.statusCode));
      req.write(Buffer.alloc(4096)); // over the limit once the 200 is out
    });
    req.on('error', () => resolve(undefined));
    req.flushHeaders();
  });
  t.equal(sent, 200, 'the head was out before the body crossed the limit');
  const line = await requestLine(wd);
  t.equal(line.status, 413);
  t.equal(line.cut, 'WD_ERR_BODY_TOO_LARGE');
  t.equal(line.sentStatus, 200);
  t.match(await metricsText(metricsPort), /http_requests_total\{code="413",method="post"\} 1/);
});
