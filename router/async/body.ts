// Read an async request body into memory without ever holding more than the limit: the count is kept
// while the bytes stream in, and the request is refused the moment it goes over.

import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './errors.js';

/** The whole body, or BodyTooLargeError as soon as more than `limit` bytes arrive (or are announced). */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err: unknown, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err !== undefined) reject(err); else resolve(body!);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        // Stop reading: the 413 goes out with Connection: close, the rest of the body is never read.
        req.pause();
        done(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done(undefined, Buffer.concat(chunks, size));
    const onError = (err: Error): void => done(err);
    const onAborted = (): void => done(new Error('client aborted the request'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}
