// The jetstream queue says when it loses NATS and when NATS is back, once each: a lost server is retried
// every few seconds, and a line per attempt would flood the log; an idle worker said nothing at all before.

import t from 'tap';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../common/log.js';
import { NatsLink } from '../../router/queue/jetstream/jetstream-link.js';

t.test('one line when the connection is lost, one when it is back', async (t) => {
  const lines: Array<{ level: string; msg: string; server?: string; awayMs?: number }> = [];
  const link = new NatsLink(createLogger({ format: 'json', write: (line) => lines.push(JSON.parse(line)) }));
  const events = [
    { type: 'disconnect', server: '127.0.0.1:4222' },
    { type: 'reconnecting' },
    { type: 'disconnect', server: '127.0.0.1:4222' }, // a failed attempt: no second line
    { type: 'reconnect', server: '127.0.0.1:4223' },
  ];
  const states: boolean[] = [];
  const nc = { async *status() { for (const e of events) { yield e; states.push(link.connected); } } } as unknown as NatsConnection;
  await link.watch(nc);
  t.same(states, [false, false, false, true], 'the state follows the events');
  t.same(lines.map((l) => [l.level, l.msg, l.server]), [
    ['warn', 'lost the connection to NATS: async accepts get 503 and leasing waits until it is back', '127.0.0.1:4222'],
    ['info', 'connected to NATS again', '127.0.0.1:4223'],
  ]);
  t.type(lines[1]!.awayMs, 'number', 'how long it was away');
});
