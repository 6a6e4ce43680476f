// The hand-made publish (jetstream-publish.ts) against a real nats-server: it must answer what the
// library's js.publish and kv.create / kv.update answer (the stream sequence, a duplicate within the
// window, a refused compare-and-set with its code), and never leave a caller waiting: a publish nobody
// acknowledges fails at the timeout, and one out when the publisher or the connection closes fails then.

import t from 'tap';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { encodeEnvelope, decodeEnvelope, type Envelope } from '../../router/queue/jetstream/jetstream-envelope.js';
import { MSG_ID, PublishRefusedError, StreamPublisher, expectRevision } from '../../router/queue/jetstream/jetstream-publish.js';
import { isWrongLastSequence, writeEnvelope, type RecordContext } from '../../router/queue/jetstream/jetstream-records.js';
import { jetStreamNames } from '../../router/queue/jetstream/jetstream-names.js';
import { newRecord } from '../../router/queue/record.js';
import { requireNats, startNats } from '../helpers/nats-server.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('stream publishes by hand', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const open = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: node.url });
    t.teardown(() => nc.close());
    return nc;
  };
  const nc = await open();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'p', subjects: ['p.>'], retention: RetentionPolicy.Limits, storage: StorageType.File, duplicate_window: 60e9 });

  await t.test('a publish resolves with the stream and its sequence; the same Nats-Msg-Id again is a duplicate', async (t) => {
    const pub = new StreamPublisher(nc, 2_000);
    const withId = (id: string) => { const h = headers(); h.set(MSG_ID, id); return h; };
    const first = await pub.publish('p.a', bytes('one'), withId('m-1'));
    const second = await pub.publish('p.a', bytes('two'), withId('m-2'));
    t.same(first, { stream: 'p', seq: first.seq, duplicate: false });
    t.equal(second.seq, first.seq + 1, 'each stored message has its own sequence');
    const again = await pub.publish('p.a', bytes('one, sent again'), withId('m-1'));
    t.same(again, { stream: 'p', seq: first.seq, duplicate: true }, 'the duplicate names the message stored first');
    t.equal((await jsm.streams.info('p')).state.messages, 2, 'nothing stored for the duplicate');
    // Many at once (the worker has dozens out): every answer reaches its own publish.
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish(`p.m.${i}`, bytes(String(i)))));
    t.same(new Set(many.map((a) => a.seq)).size, 200, '200 publishes at once, 200 distinct sequences');
    for (let i = 0; i < 200; i += 37) {
      const stored = await jsm.streams.getMessage('p', { seq: many[i]!.seq });
      t.equal(new TextDecoder().decode(stored!.data), String(i), `publish ${i} resolved with its own message's sequence`);
    }
    pub.close();
  });

  await t.test('a refused compare-and-set rejects with the API code; no stream on the subject is a 503', async (t) => {
    const pub = new StreamPublisher(nc, 2_000);
    const stored = await pub.publish('p.cas', bytes('v1'), expectRevision(0));
    await t.rejects(pub.publish('p.cas', bytes('v2'), expectRevision(0)), { name: 'PublishRefusedError', code: 10071 }, 'a create of a key that holds a value');
    const err = await pub.publish('p.cas', bytes('v2'), expectRevision(stored.seq - 1)).catch((e: unknown) => e);
    t.ok(err instanceof PublishRefusedError && isWrongLastSequence(err), 'an update at an old revision is a wrong last sequence');
    t.ok((await pub.publish('p.cas', bytes('v2'), expectRevision(stored.seq))).seq > stored.seq, 'at the latest revision it is stored');
    await t.rejects(pub.publish('nowhere.at.all', bytes('x')), { name: 'PublishRefusedError', code: 503, message: /no stream listens on nowhere\.at\.all/ });
    pub.close();
  });

  await t.test('nobody acknowledges: the publish fails at its timeout, and a late answer is dropped', async (t) => {
    const other = await open();
    let held: Array<{ respond: (d: Uint8Array) => boolean }> = [];
    other.subscribe('slow.>', { callback: (_err, m) => { held.push(m); } }); // a responder that answers late
    await other.flush();
    const pub = new StreamPublisher(nc, 200);
    const started = Date.now();
    await t.rejects(pub.publish('slow.one', bytes('x')), { message: /did not acknowledge a publish to slow\.one within 200 ms/ });
    t.ok(Date.now() - started < 1_500, `failed after ${Date.now() - started} ms`);
    for (const m of held) m.respond(bytes(JSON.stringify({ stream: 'late', seq: 9 })));
    held = [];
    // A later publish is answered normally, and only by its own answer.
    const ok = pub.publish('p.after', bytes('y'));
    t.equal((await ok).stream, 'p');
    pub.close();
  });

  await t.test('close, or the connection closing, fails what is still out', async (t) => {
    const other = await open();
    other.subscribe('never.>', { callback: () => {} });
    await other.flush();
    const pub = new StreamPublisher(nc, 30_000);
    const out = pub.publish('never.one', bytes('x'));
    pub.close();
    await t.rejects(out, { message: /queue closed before the stream acknowledged/ });

    const own = await open();
    const pub2 = new StreamPublisher(own, 30_000);
    const out2 = pub2.publish('never.two', bytes('x'));
    await own.flush();
    await own.close();
    await t.rejects(out2, { message: /connection closed before the stream acknowledged/ });
    await t.rejects(pub2.publish('p.x', bytes('x')), 'a publish on a closed connection fails at once');
  });

  await t.test('record writes: create, update, a lost compare-and-set, and a create over a deleted key', async (t) => {
    const names = jetStreamNames('pw');
    const kv = await new Kvm(nc).create(names.bucket, { history: 1 });
    const ctx: RecordContext = {
      kv, bodies: kv, jsm, names, pub: new StreamPublisher(nc, 2_000), maxValueBytes: 900 * 1024, onUndecodable: () => {},
    };
    const env = (status: 'queued' | 'running'): Envelope => ({
      record: { ...newRecord({ id: 'r-1', functionName: 'echo', method: 'POST', path: '/', query: '', headers: {}, body: new Uint8Array(), callbackUrl: null }, 1_000), status },
      lease: { seq: 1, delivery: 1 },
    });
    const created = await writeEnvelope(ctx, 'r-1', env('queued'), 0);
    t.ok(created !== null && created > 0, 'created');
    t.equal(await writeEnvelope(ctx, 'r-1', env('queued'), 0), null, 'a second create finds the record: null, as kv.create refuses');
    const updated = await writeEnvelope(ctx, 'r-1', env('running'), created!);
    const entry = await kv.get('r-1');
    t.equal(entry?.revision, updated, 'the revision returned is the one KV reads back');
    t.equal(decodeEnvelope(entry!.value).record.status, 'running');
    t.equal(await writeEnvelope(ctx, 'r-1', env('queued'), created!), null, 'an update at an old revision: null');
    await kv.delete('r-1');
    const again = await writeEnvelope(ctx, 'r-1', env('queued'), 0);
    t.ok(again !== null && again > updated!, 'a create over the delete marker is stored (through the library)');
    t.equal(decodeEnvelope((await kv.get('r-1'))!.value).record.status, 'queued');
    t.ok(encodeEnvelope(env('queued'), ctx.maxValueBytes).byteLength > 0);
    ctx.pub.close();
  });
});
