// A function's result as the worker holds it: at most `keepBytes` in memory (what the queue stores), the
// size always, and, when a callback must carry the whole of a larger result, the rest spooled to a
// private temporary file that the callback streams from. Memory per call is therefore bounded by the
// stored limit plus the stream buffers, whatever the function returns.

import { createHmac, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BodySink } from '../invoker.js';
import { once } from 'node:events';

export interface ResultBody {
  readonly size: number;
  /** The whole body when it is at most keepBytes, else null. */
  readonly kept: Buffer | null;
  /** The whole body on disk, when it was over keepBytes and asked to be spooled; removed by `release`. */
  readonly file: string | null;
}

/**
 * Takes a result chunk by chunk, keeping up to `keepBytes` in memory; past it, spools the whole body to a
 * file when `spool`, else counts and drops. Given to the invoker as the response body's sink.
 */
export class ResultCollector implements BodySink<ResultBody> {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private file: string | null = null;
  private out: WriteStream | null = null;
  /** A write to the file that failed while nobody waited on it: the next write or end reports it. */
  private error: Error | null = null;

  constructor(private readonly keepBytes: number, private readonly spool: boolean) {}

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.error !== null) return Promise.reject(this.error);
    this.size += chunk.length;
    if (this.out !== null) return this.drained(this.out.write(chunk));
    if (this.size <= this.keepBytes) { this.chunks.push(chunk); return undefined; }
    if (!this.spool) { this.chunks.length = 0; return undefined; }
    // Over the stored limit with a callback to feed: what was kept goes to the file first, then the rest.
    this.file = join(tmpdir(), `whippet-result-${randomUUID()}`);
    const out = createWriteStream(this.file, { flags: 'wx', mode: 0o600 });
    out.on('error', (err) => { this.error ??= err; });
    this.out = out;
    for (const kept of this.chunks.splice(0)) out.write(kept);
    return this.drained(out.write(chunk));
  }

  async end(): Promise<ResultBody> {
    if (this.error !== null) throw this.error;
    if (this.out !== null) { this.out.end(); await once(this.out, 'finish'); }
    const { size, file } = this;
    return { size, kept: file === null && size <= this.keepBytes ? Buffer.concat(this.chunks, size) : null, file };
  }

  async discard(): Promise<void> {
    this.chunks.length = 0;
    this.out?.destroy();
    if (this.file !== null) await unlink(this.file).catch(() => {});
  }

  private drained(ok: boolean): Promise<void> | undefined {
    return ok ? undefined : once(this.out!, 'drain').then(() => {});
  }
}

/** The body to send: the file as a stream, the kept bytes, or `fallback` (a stored body, or nothing). */
export function resultPayload(body: ResultBody | undefined, fallback: Uint8Array): Readable | Uint8Array {
  if (body?.file != null) return createReadStream(body.file);
  return body?.kept ?? fallback;
}

/** X-Callback-Signature over the whole result, streaming the file when there is one. */
export async function signResult(body: ResultBody, secret: string): Promise<string> {
  const hmac = createHmac('sha256', secret);
  if (body.file === null) hmac.update(body.kept ?? Buffer.alloc(0));
  else for await (const chunk of createReadStream(body.file)) hmac.update(chunk as Buffer);
  return `sha256=${hmac.digest('hex')}`;
}

/** Remove the spooled file, if any. */
export async function releaseResult(body: ResultBody | undefined): Promise<void> {
  if (body?.file != null) await unlink(body.file).catch(() => {});
}

/**
 * What the queue's finish() is given as the result body: the bytes when they fit the stored limit; else an
 * empty view whose byteLength is the real size, so the record says bodySize without the bytes being held
 * (the queue keeps only bodies up to its limit and reads nothing but byteLength from a larger one).
 */
export function bodyForRecord(body: ResultBody): Uint8Array {
  if (body.kept !== null) return body.kept;
  return Object.defineProperty(new Uint8Array(0), 'byteLength', { value: body.size });
}
