// Names on the NATS side: stream, consumer, bucket, subjects and keys. Function names (`name.namespace`)
// and client-chosen call ids may hold characters that NATS subjects and KV keys forbid (dots split
// tokens, `*`/`>` are wildcards), so both are escaped with one injective rule: [-A-Za-z0-9] stays,
// every other UTF-8 byte becomes `_XX` (hex). UUIDs and plain names stay readable.

/** Everything one whippet installation keeps on NATS, derived from one name (default `whippet`). */
export interface JetStreamNames {
  /** Work-queue stream of call messages. */
  readonly stream: string;
  /** The durable pull consumer every worker shares. */
  readonly consumer: string;
  /** KV bucket of call records. */
  readonly bucket: string;
  /** KV bucket of request bodies (for redrives). */
  readonly bodies: string;
  /** Subjects of the stream: `<name>.calls.>`. */
  readonly subjects: string;
}

/** Derive the names; `name` must be a NATS name ([-_A-Za-z0-9]+). */
export function jetStreamNames(name: string): JetStreamNames {
  if (!/^[-_A-Za-z0-9]+$/.test(name)) throw new Error(`invalid NATS name ${JSON.stringify(name)}: use [-_A-Za-z0-9]`);
  return { stream: `${name}-calls`, consumer: `${name}-workers`, bucket: `${name}-records`, bodies: `${name}-bodies`, subjects: `${name}.calls.>` };
}

/** Escape any string into one subject token / KV key token. */
export function escapeToken(value: string): string {
  if (/^[-A-Za-z0-9]+$/.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[-A-Za-z0-9]/.test(ch) ? ch : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '_' : out;
}

/** The subject a call for `functionName` is published on. */
export function callSubject(names: JetStreamNames, functionName: string): string {
  return `${names.subjects.slice(0, -1)}${escapeToken(functionName)}`;
}

/** The KV key of a call record (also the base of its Nats-Msg-Id). */
export function recordKey(callId: string): string {
  return escapeToken(callId);
}

/** Nats-Msg-Id of a call's message in one round: a redrive is a new message, not a duplicate. */
export function messageId(key: string, round: number): string {
  return `${key}:${round}`;
}
