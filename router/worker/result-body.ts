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
import { once } from 'node:events';

export interface ResultBody {
  readonly size: number;
  /** The whole body when it is at most keepBytes, else null. */
  readonly kept: Buffer | null;
  /** The whole body on disk, when it was over keepBytes and asked to be spooled; removed by `release`. */
  readonly file: string | null;
}

/** Read `body`, keeping up to `keepBytes` in memory; past it, spool the whole body to a file when `spool`, else count and drop. */
export async function readResultBody(body: Readable, keepBytes: number, spool: boolean): Promise<ResultBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let file: string | null = null;
  let out: WriteStream | null = null;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (out !== null) {
        if (!out.write(chunk)) await once(out, 'drain');
      } else if (size <= keepBytes) {
        chunks.push(chunk);
      } else if (spool) {
        // Over the stored limit with a callback to feed: what was kept goes to the file first, then the rest.
        file = join(tmpdir(), `whippet-result-${randomUUID()}`);
        out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
        for (const kept of chunks.splice(0)) if (!out.write(kept)) await once(out, 'drain');
        if (!out.write(chunk)) await once(out, 'drain');
      } else {
        chunks.length = 0;
      }
    }
    if (out !== null) { out.end(); await once(out, 'finish'); }
  } catch (err) {
    out?.destroy();
    if (file !== null) await unlink(file).catch(() => {});
    throw err;
  }
  return { size, kept: file === null && size <= keepBytes ? Buffer.concat(chunks, size) : null, file };
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
