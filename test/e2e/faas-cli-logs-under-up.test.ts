// `faas-cli logs NAME` against `whippet up`: GET /system/logs streams the lines each watchdog wrote as
// NDJSON LogEntry objects (faas-cli's decoder: name, namespace, instance, timestamp RFC 3339, text);
// `--tail=false` (follow=false) ends after the kept lines, the default (follow=true) stays open for new ones.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startUp } from '../helpers/up-process.js';
import * as faas from './faas-cli-client.js';

t.test('logs: the watchdog\'s lines, then follow', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'talk'));
  // The function writes a marker to stderr; with combine_output false the watchdog logs it.
  writeFileSync(join(dir, 'talk', 'handler.sh'), '#!/usr/bin/env bash\necho "said: $(cat)" >&2\necho ok\n');
  writeFileSync(join(dir, 'stack.yml'), 'version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  talk: {lang: bash, handler: ./talk, environment: {combine_output: false}}\n');
  const up = await startUp(t, dir, ['stack.yml']);
  const g = up.url;

  const first = await faas.invoke(g, 'talk', 'first-marker');
  t.equal(first.stdout, 'ok\n', 'faas-cli invoke talk (talk.openfaas-fn) under up');

  const once = await request(faas.logsUrl(g, 'talk', { follow: false }), { headers: { 'user-agent': faas.PROXY_UA, authorization: 'Bearer ' } });
  t.equal(once.statusCode, 200);
  t.match(once.headers['content-type'], /^application\/x-ndjson/);
  const entries = (await once.body.text()).split('\n').filter((l) => l.trim() !== '').map(faas.decodeLogEntry);
  t.ok(entries.length >= 2, 'the start-up lines and the call\'s line');
  t.ok(entries.every((e) => e.name === 'talk' && e.namespace === 'openfaas-fn' && /^talk-\d+$/.test(e.instance)), 'name, namespace, instance of every entry');
  t.ok(entries.some((e) => /listening/.test(e.text)), 'the watchdog\'s own listening line');
  t.ok(entries.some((e) => e.text.includes('said: first-marker')), 'the line the function wrote through its watchdog');

  const tail1 = await request(faas.logsUrl(g, 'talk', { follow: false, lines: 1 }));
  t.equal((await tail1.body.text()).trim().split('\n').length, 1, '--lines 1 → tail=1: one entry');
  const future = await request(faas.logsUrl(g, 'talk', { follow: false, since: new Date(Date.now() + 60_000).toISOString() }));
  t.equal(await future.body.text(), '', 'since in the future: nothing yet');
  const badSince = await request(faas.logsUrl(g, 'talk', { follow: false, since: 'yesterday' }));
  t.equal(badSince.statusCode, 400);
  t.match(await badSince.body.text(), /^since must be an RFC 3339 time/);

  // Default faas-cli logs: follow=true&name=talk&tail=-1. Read until the new line arrives, then hang up.
  const controller = new AbortController();
  const follow = await request(faas.logsUrl(g, 'talk'), { signal: controller.signal });
  t.equal(follow.statusCode, 200);
  let seen = '';
  const arrived = new Promise<void>((resolve, reject) => {
    follow.body.setEncoding('utf8');
    follow.body.on('data', (chunk: string) => { seen += chunk; if (seen.includes('said: second-marker')) resolve(); });
    follow.body.on('error', (err: Error) => { if (!seen.includes('said: second-marker')) reject(err); });
  });
  t.equal((await faas.invoke(g, 'talk', 'second-marker')).stdout, 'ok\n');
  await arrived;
  const lines = seen.split('\n').filter((l) => l.trim() !== '').map(faas.decodeLogEntry);
  t.ok(lines.some((e) => e.text.includes('said: first-marker')), 'tail=-1: the kept lines come first');
  t.ok(lines.some((e) => e.text.includes('said: second-marker')), 'then the new one, while the stream stays open');
  controller.abort();

  const info = await faas.version(g);
  t.match(info.printed, /orchestration: whippet up/);
  const d = await faas.describe(g, 'talk');
  t.equal(d.fn?.availableReplicas, 1);
  t.equal(d.fn?.image, 'talk:latest');
  t.match(d.fn?.createdAt, /^\d{4}-\d\d-\d\dT/, 'createdAt: when up started the function (RFC 3339)');

  // A follower still connected must not hold up the stop.
  const lingering = await request(faas.logsUrl(g, 'talk'));
  const ended = lingering.body.text();
  const stopped = await up.stop('SIGINT');
  t.equal(stopped.code, 0, 'up stops with a follow stream open');
  t.type(await ended, 'string', 'the follow stream ended with the stop');
});
