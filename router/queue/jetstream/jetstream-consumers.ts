// One durable pull consumer per function (filter `<name>.calls.<function>.*`), so that a worker can
// pull from the functions it has room for and a slow function's backlog never stands in front of a
// fast one's. The first enqueue of a function in a process makes sure its consumer exists (later ones
// only publish); workers learn the functions by listing the stream's consumers.
//
// The earlier layout had one consumer over every subject; a work-queue stream forbids overlapping
// consumers, so at start-up it is replaced by `<name>-legacy` (filter `<name>.calls.*`, the earlier
// subjects only), which drains the calls accepted before the upgrade and is removed once empty.

import { nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { functionConsumer, functionSubjects, legacySubjects, unescapeToken, type JetStreamNames } from './jetstream-names.js';

/** How often a worker looks for consumers of functions it has not seen yet. */
const REFRESH_MS = 2_000;

/** A consumer to pull from; `functionName` null for the legacy one (any function). */
export interface Source {
  readonly consumer: string;
  readonly functionName: string | null;
}

/** The consumers of one queue, created on demand and discovered by listing. */
export class FunctionConsumers {
  private readonly byName = new Map<string, Source>();
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly created = new Set<string>();
  /** Consumers whose ack_wait this process already set (once each, so two settings cannot fight). */
  private readonly tuned = new Set<string>();
  private refreshedAt = 0;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly names: JetStreamNames, private readonly ackWaitMs: number) {}

  /**
   * Make sure the function's consumer exists (once per process; a failure is retried by the next call).
   * True when it is known to exist already, else the promise of its creation.
   */
  ensure(jsm: JetStreamManager, functionName: string): Promise<void> | true {
    if (this.created.has(functionName)) return true;
    let done = this.ensured.get(functionName);
    if (done === undefined) {
      const consumer = functionConsumer(this.names, functionName);
      done = addConsumer(jsm, this.names.stream, this.config(consumer, functionSubjects(this.names, functionName)))
        .then(() => { this.byName.set(consumer, { consumer, functionName }); this.created.add(functionName); });
      done.catch(() => this.ensured.delete(functionName));
      this.ensured.set(functionName, done);
    }
    return done;
  }

  /** The sources known now; refreshed from the server at most every REFRESH_MS (or at once with `force`). */
  async sources(jsm: JetStreamManager, force = false): Promise<Source[]> {
    if (force || Date.now() - this.refreshedAt > REFRESH_MS) {
      this.refreshing ??= this.refresh(jsm).finally(() => { this.refreshing = null; });
      await this.refreshing;
    }
    return [...this.byName.values()];
  }

  /**
   * False when every source known is of a function in `busy` and the list is fresh (refreshed within REFRESH_MS):
   * a caller that may take none of those has nothing to pull until a function leaves `busy` or the list is stale.
   */
  mayServe(busy: ReadonlySet<string>): boolean {
    if (Date.now() - this.refreshedAt > REFRESH_MS) return true;
    for (const source of this.byName.values()) if (source.functionName === null || !busy.has(source.functionName)) return true;
    return false;
  }

  /** The sources known now, without asking the server. */
  known(): Source[] {
    return [...this.byName.values()];
  }

  /** The legacy consumer is empty: remove it (the next start-up finds nothing to migrate). */
  async retireLegacy(jsm: JetStreamManager): Promise<void> {
    const info = await jsm.consumers.info(this.names.stream, this.names.legacy).catch(() => null);
    if (info === null || info.num_pending > 0 || info.num_ack_pending > 0) return;
    await jsm.consumers.delete(this.names.stream, this.names.legacy).catch(() => { /* gone already */ });
    this.byName.delete(this.names.legacy);
  }

  /** Replace the earlier layout's single consumer, keeping its messages (a work queue keeps what is unacked). */
  async migrate(jsm: JetStreamManager): Promise<void> {
    const { stream, consumer, legacy } = this.names;
    const old = await jsm.consumers.info(stream, consumer).catch(() => null);
    if (old === null) return;
    await jsm.consumers.delete(stream, consumer).catch(() => { /* another instance did it */ });
    await addConsumer(jsm, stream, this.config(legacy, legacySubjects(this.names)));
  }

  private async refresh(jsm: JetStreamManager): Promise<void> {
    const prefix = `${this.names.prefix}-fn-`;
    const seen = new Map<string, Source>();
    for await (const info of jsm.consumers.list(this.names.stream)) {
      const name = info.name;
      if (name === this.names.legacy) seen.set(name, { consumer: name, functionName: null });
      else if (name.startsWith(prefix)) seen.set(name, { consumer: name, functionName: unescapeToken(name.slice(prefix.length)) });
      else continue;
      if (info.config.ack_wait !== nanos(this.ackWaitMs) && !this.tuned.has(name)) {
        this.tuned.add(name);
        // ack_wait follows the latest starter (docs/queues.md): set it the same everywhere.
        await jsm.consumers.update(this.names.stream, name, { ack_wait: nanos(this.ackWaitMs) }).catch(() => {});
      }
    }
    this.byName.clear();
    for (const [name, source] of seen) this.byName.set(name, source);
    this.refreshedAt = Date.now();
  }

  private config(durable: string, filter: string): Partial<ConsumerConfig> {
    return {
      durable_name: durable, ack_policy: AckPolicy.Explicit, ack_wait: nanos(this.ackWaitMs), max_deliver: -1,
      deliver_policy: DeliverPolicy.All, filter_subject: filter, max_ack_pending: 20_000, max_waiting: 4_096,
    };
  }
}

async function addConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    // Another instance created it between our look and our add.
    if (!/already in use|already exists/i.test(String((err as Error).message))) throw err;
  }
}
