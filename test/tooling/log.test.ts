import t from 'tap';
import { createLogger } from '../../common/log.js';

const at = new Date('2026-11-28T12:00:00.000Z');

t.test('json lines carry time, level, message and fields; children add fields', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (l) => lines.push(l), now: () => at }, { component: 'wd' });
  log.child({ callId: 'abc' }).info('request completed', { status: 200, err: new Error('boom') });
  t.same(JSON.parse(lines[0]!), { time: at.toISOString(), level: 'info', msg: 'request completed', component: 'wd', callId: 'abc', status: 200, err: 'boom' });
  t.ok(lines[0]!.endsWith('\n'));
});

t.test('text lines quote values that need it and skip undefined', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: () => at });
  log.warn('handler stderr', { line: 'two words', n: 3, none: undefined, empty: '', obj: { a: 1 }, e: new Error('x y') });
  t.equal(lines[0], `${at.toISOString()} warn  handler stderr line="two words" n=3 empty="" obj="{\\"a\\":1}" e="x y"\n`);
});

t.test('levels below the minimum are dropped', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
  log.debug('a'); log.info('b'); log.warn('c'); log.error('d');
  t.equal(lines.length, 2);
});

t.test('default sink is stderr', async (t) => {
  const writes: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => { writes.push(chunk); return true; }) as typeof process.stderr.write;
  try { createLogger().error('to stderr'); } finally { process.stderr.write = orig; }
  t.match(writes[0], /error to stderr/);
});

t.test('a field replaces a base field of the same name, once, in both formats', async (t) => {
  const lines: string[] = [];
  const json = createLogger({ format: 'json', write: (l) => lines.push(l), now: () => at }, { component: 'wd', callId: 'base' });
  json.info('m', { callId: 'mine', fn: () => 1, gone: undefined });
  t.same(JSON.parse(lines[0]!), { time: at.toISOString(), level: 'info', msg: 'm', component: 'wd', callId: 'mine' });
  t.equal(lines[0]!.match(/callId/g)?.length, 1);
  const text = createLogger({ write: (l) => lines.push(l), now: () => at }, { component: 'wd', callId: 'base' });
  text.info('m', { callId: 'mine' });
  t.equal(lines[1], `${at.toISOString()} info  m component=wd callId=mine\n`);
});
