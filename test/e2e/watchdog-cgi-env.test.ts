// cat echoes bytes exactly; the handler sees the CGI variables; odd header names inject nothing.
import t from 'tap';
import { request } from 'undici';
import { raw } from '../helpers/raw-http.js';
import { handler, startWatchdog } from '../helpers/start-watchdog.js';

function envOf(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return map;
}

t.test('fprocess=cat echoes every byte value exactly', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const body = Buffer.alloc(256 * 3);
  for (let i = 0; i < body.length; i++) body[i] = i % 256;
  const res = await request(`${wd.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/x-test' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/x-test', 'success echoes the request Content-Type');
  t.match(res.headers['x-duration-seconds'], /^\d+\.\d{6}$/);
  t.same(Buffer.from(await res.body.arrayBuffer()), body);
  const empty = await request(`${wd.url}/`, { method: 'GET' });
  t.equal(empty.statusCode, 200);
  t.equal(empty.headers['content-type'], 'application/octet-stream');
  t.equal(await empty.body.text(), '');
  const starting = wd.records().find((r) => r.msg === 'starting');
  const asked = process.env.WHIPPET_SPAWN_BACKEND === 'posix_spawn' ? 'native' : process.env.WHIPPET_SPAWN_BACKEND; // its former name
  t.equal(starting?.spawnBackend, asked ?? starting?.spawnBackend, 'the spawn backend under test is in use');
  t.match(starting?.spawnBackend, /^(native|child_process)$/);
  if (starting?.spawnBackend === 'native') t.match(starting.spawnMethod, /^(clone3|clone|posix_spawn)$/, 'and how it makes children');
  else t.equal(starting?.spawnMethod, undefined, 'child_process has no spawn method to report');
});

t.test('the handler sees Http_Method, Http_Path, Http_Query and Http_X_Custom', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('env.sh')}` });
  const res = await request(`${wd.url}/a/b?q=serverless&page=1`, {
    method: 'PUT',
    body: 'hi',
    headers: { 'x-custom': 'v1', 'x-call-id': 'abc-123', 'content-type': 'text/plain' },
  });
  t.equal(res.statusCode, 200);
  const env = envOf(await res.body.text());
  t.equal(env.get('Http_Method'), 'PUT');
  t.equal(env.get('Http_Path'), '/a/b');
  t.equal(env.get('Http_Query'), 'q=serverless&page=1');
  t.equal(env.get('Http_X_Custom'), 'v1');
  t.equal(env.get('Http_X_Call_Id'), 'abc-123');
  t.equal(env.get('Http_Content_Type'), 'text/plain');
  t.equal(env.get('Http_ContentLength'), '2');
  t.equal(env.get('Http_Host'), `127.0.0.1:${wd.port}`);
  t.ok(env.has('PATH'), "the watchdog's own environment is inherited");
});

t.test('a header cannot create or change any variable but its own', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('env.sh')}`, SECRET: 'kept' });
  const baseline = envOf(await (await request(`${wd.url}/p?x=1`)).body.text());
  // Names a shell or env parser could misread; Node's parser rejects the non-token ones outright.
  for (const name of ['Foo=Bar', 'X-A;B', 'SECRET=x']) {
    const answer = await raw(wd.port, `GET /p?x=1 HTTP/1.1\r\nHost: h\r\n${name}: evil\r\nConnection: close\r\n\r\n`);
    t.match(answer, /^HTTP\/1\.1 400 /, `${name}: rejected`);
    t.notMatch(answer, /evil/);
  }
  // Token names that collide with the request variables or the base env map only onto Http_<Name>.
  const res = await request(`${wd.url}/p?x=1`, {
    headers: { method: 'DELETE', path: '/etc', query: 'evil', 'content-length-x': '1', secret: 'evil', 'x_a': 'under' },
  });
  const env = envOf(await res.body.text());
  t.equal(env.get('Http_Method'), 'GET');
  t.equal(env.get('Http_Path'), '/p');
  t.equal(env.get('Http_Query'), 'x=1');
  t.equal(env.get('SECRET'), 'kept');
  t.equal(env.get('Http_Secret'), 'evil', 'the header got its own variable');
  t.equal(env.get('Http_X_a'), 'under', 'Go canonical form, _ kept');
  const added = [...env.keys()].filter((k) => !baseline.has(k)).sort();
  t.same(added, ['Http_Content_Length_X', 'Http_Secret', 'Http_X_a'].sort(), 'nothing else appeared');
  for (const [k, v] of baseline) {
    if (k.startsWith('Http_')) continue;
    t.equal(env.get(k), v, `${k} unchanged`);
  }
});
