// Names on the NATS side: stream, consumer, bucket, subjects and keys. Function names (`name.namespace`)
// and client-chosen call ids may hold characters that NATS subjects and KV keys forbid (dots split
// tokens, `*`/`>` are wildcards), so both are escaped with one injective rule: [-A-Za-z0-9] stays,
// every other UTF-8 byte becomes `_XX` (hex). UUIDs and plain names stay readable.

/** Everything one whippet installation keeps on NATS, derived from one name (default `whippet`). */
export interface JetStreamNames {
  /** Work-queue stream of call messages. */
  readonly stream: string;
  /** The name base of the per-function durable pull consumers every worker shares. */
  readonly prefix: string;
  /** The one consumer of the earlier layout (all of `<name>.calls.>`), replaced at start-up by `legacy`. */
  readonly consumer: string;
  /** The consumer of messages in the earlier layout (`<name>.calls.<function>`), until they are gone. */
  readonly legacy: string;
  /** KV bucket of call records. */
  readonly bucket: string;
  /** KV bucket of request bodies (for redrives). */
  readonly bodies: string;
  /** Subjects of the stream: `<name>.calls.>`. */
  readonly subjects: string;
  /** Where the records bucket republishes every stored write (core NATS, no stream): `<name>.changes.>`. */
  readonly changes: string;
}

/** Derive the names; `name` must be a NATS name ([-_A-Za-z0-9]+). */
export function jetStreamNames(name: string): JetStreamNames {
  if (!/^[-_A-Za-z0-9]+$/.test(name)) throw new Error(`invalid NATS name ${JSON.stringify(name)}: use [-_A-Za-z0-9]`);
  return {
    stream: `${name}-calls`, prefix: name, consumer: `${name}-workers`, legacy: `${name}-legacy`, bucket: `${name}-records`, bodies: `${name}-bodies`, subjects: `${name}.calls.>`,
    changes: `${name}.changes.>` };
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

/** Undo escapeToken. */
export function unescapeToken(token: string): string {
  if (!token.includes('_')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_' && /^[0-9A-F]{2}$/.test(token.slice(i + 1, i + 3))) {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `<name>.calls.` */
function base(names: JetStreamNames): string {
  return names.subjects.slice(0, -1);
}

/** The subject of one call's messages: `<name>.calls.<function>.<key>` (read by id, filtered by function). */
export function callSubject(names: JetStreamNames, functionName: string, key: string): string {
  return `${base(names)}${escapeToken(functionName)}.${key}`;
}

/** Every call message of one function. */
export function functionSubjects(names: JetStreamNames, functionName: string): string {
  return `${base(names)}${escapeToken(functionName)}.*`;
}

/** Every call message, any function. */
export function allCallSubjects(names: JetStreamNames): string {
  return `${base(names)}*.*`;
}

/** The messages of one call, whatever its function. */
export function idSubjects(names: JetStreamNames, key: string): string {
  return `${base(names)}*.${key}`;
}

/** Messages of the earlier layout: `<name>.calls.<function>`, the record in KV since the accept. */
export function legacySubjects(names: JetStreamNames): string {
  return `${base(names)}*`;
}

/** The key and function of a call subject; null for a subject of the earlier layout. */
export function parseCallSubject(names: JetStreamNames, subject: string): { functionName: string; key: string } | null {
  const tokens = subject.slice(base(names).length).split('.');
  if (tokens.length !== 2) return null;
  return { functionName: unescapeToken(tokens[0]!), key: tokens[1]! };
}

/** The durable consumer of one function's calls. */
export function functionConsumer(names: JetStreamNames, functionName: string): string {
  return `${names.prefix}-fn-${escapeToken(functionName)}`;
}

/** The KV key of a call record (also the base of its Nats-Msg-Id). */
export function recordKey(callId: string): string {
  return escapeToken(callId);
}

/** The subject a record's KV write is published on: `$KV.<bucket>.<key>` (what nats.js's kv.put sends to). */
export function recordSubject(names: JetStreamNames, key: string): string {
  return `$KV.${names.bucket}.${key}`;
}

/** Nats-Msg-Id of a call's message in one round: a redrive is a new message, not a duplicate. */
export function messageId(key: string, round: number): string {
  return `${key}:${round}`;
}
