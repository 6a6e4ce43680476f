// Read an async request body into memory without ever holding more than the limit: the count is kept
// while the bytes stream in, and the request is refused the moment it goes over.

import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './errors.js';

/**
 * After going over the limit, how much more is read and thrown away (bytes, ms) before the 413. The connection
 * closes after the 413; closing it with unread input makes TCP send a reset, which can destroy the 413 before
 * the client reads it (the watchdog lingers the same way after a bad request).
 */
const DISCARD_BYTES = 1 << 20;
const DISCARD_MS = 500;

/** The whole body, or BodyTooLargeError once more than `limit` bytes arrive (or are announced). */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let discarding: NodeJS.Timeout | undefined;
    const done = (err: unknown, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(discarding);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err !== undefined) reject(err); else resolve(body!);
    };
    // Stop reading: the 413 goes out with Connection: close, the rest of the body is never read.
    const refuse = (): void => {
      req.pause();
      done(new BodyTooLargeError(limit));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      if (discarding === undefined) {
        chunks.length = 0;
        discarding = setTimeout(refuse, DISCARD_MS);
      }
      if (size - limit > DISCARD_BYTES) refuse();
    };
    const onEnd = (): void => (discarding === undefined ? done(undefined, Buffer.concat(chunks, size)) : refuse());
    const onError = (err: Error): void => done(err);
    const onAborted = (): void => done(new Error('client aborted the request'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}
