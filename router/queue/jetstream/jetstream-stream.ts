// Reading calls that are still only messages (accepted, never leased: their record is in the message,
// not yet in KV). A work-queue stream admits no second consumer over the same subjects, so these reads
// are message gets by subject: by id (`<name>.calls.*.<key>`), walking the newest messages, and the
// stream's per-subject counts.

import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { readCallMessage } from './jetstream-message.js';
import { allCallSubjects, functionSubjects, idSubjects, parseCallSubject, type JetStreamNames } from './jetstream-names.js';
import type { CallRecord } from '../record.js';

/** The record a call's newest message carries and its sequence, or null (no message, or one of the earlier layout). */
export async function streamRecord(
  jsm: JetStreamManager, names: JetStreamNames, key: string,
): Promise<{ record: CallRecord; seq: number } | null> {
  const msg = await jsm.streams.getMessage(names.stream, { last_by_subj: idSubjects(names, key) });
  const record = msg === null ? null : readCallMessage({ headers: msg.header })?.record ?? null;
  return record === null ? null : { record, seq: msg!.seq };
}

/** Call messages per function in the stream: key → function name. */
export async function streamKeys(jsm: JetStreamManager, names: JetStreamNames): Promise<Map<string, string>> {
  const info = await jsm.streams.info(names.stream, { subjects_filter: allCallSubjects(names) });
  const keys = new Map<string, string>();
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const call = parseCallSubject(names, subject);
    if (call !== null) keys.set(call.key, call.functionName);
  }
  return keys;
}

/**
 * The records of the newest call messages (of one function, or all) whose key `known` does not hold,
 * newest first, at most `want`. Walks a window at the end of the stream, widened until it found enough
 * or reached the start.
 */
export async function newestStreamRecords(
  jsm: JetStreamManager, names: JetStreamNames, functionName: string | undefined, want: number, known: (key: string) => boolean,
): Promise<CallRecord[]> {
  const filter = functionName === undefined ? allCallSubjects(names) : functionSubjects(names, functionName);
  const { state } = await jsm.streams.info(names.stream);
  if (state.messages === 0) return [];
  for (let window = want * 2 + 16; ; window *= 4) {
    const start = Math.max(state.first_seq, state.last_seq - window + 1);
    const found: CallRecord[] = [];
    const seen = new Set<string>();
    for (let seq = start; seq <= state.last_seq;) {
      // The server answers next_by_subj on this API too; the client's type only lists it for direct gets.
      const msg = await jsm.streams.getMessage(names.stream, { seq, next_by_subj: filter } as unknown as MsgRequest);
      if (msg === null || msg.seq > state.last_seq) break;
      seq = msg.seq + 1;
      const call = readCallMessage({ headers: msg.header });
      if (call?.record == null || known(call.key) || seen.has(call.key)) continue;
      seen.add(call.key);
      found.push(call.record);
    }
    if (found.length >= want || start === state.first_seq) return found.reverse().slice(0, want);
  }
}
