// serializing mode: fork per request, buffer the output, status from the exit code (classic watchdog).
// exit 0 → 200 with the output; non-zero → 500 with the exit status and the output; exec_timeout → 504.
// The backend buffers the output itself (in C on the posix_spawn path: one callback per request).

import { durationSeconds, toResponse, type ExecTimeoutError } from '../errors.js';
import type { ExitStatus } from '../spawn/types.js';
import { ForkCall, ForkRunner, OUTPUT_LINGER_MS, describeExit, exitCode } from './fork.js';
import type { Runner, RunnerDeps } from './types.js';

/**
 * write_debug logs at most this much of a response: enough to see what a handler answered; a whole output made
 * into one string threw ERR_STRING_TOO_LONG past 512 MiB (and would flood the log long before).
 */
const DEBUG_BODY_BYTES = 4096;

/** The first `max` bytes of the output as text, copying no more than that. */
function outputPrefix(chunks: readonly Buffer[], max: number): string {
  const parts: Buffer[] = [];
  let left = max;
  for (const c of chunks) {
    if (left <= 0) break;
    parts.push(c.length <= left ? c : c.subarray(0, left));
    left -= c.length;
  }
  return Buffer.concat(parts).toString();
}

/** serializing mode: the backend buffers the output (in C on the posix_spawn path). */
export function serializingRunner(deps: RunnerDeps): Runner {
  return new ForkRunner(deps, SerializingCall, 'buffer', OUTPUT_LINGER_MS);
}

class SerializingCall extends ForkCall {
  // Buffered by the backend: nothing is emitted but uncombined stderr, which ForkCall logs.
  protected output(): void {}

  protected timedOut(err: ExecTimeoutError): void { toResponse(this.res, err, this.startedAt); }

  protected finished(status: ExitStatus, chunks: readonly Buffer[]): void {
    const { res, deps } = this;
    let size = 0;
    for (const c of chunks) size += c.length;
    if (deps.config.writeDebug) {
      const cut = size > DEBUG_BODY_BYTES;
      deps.log.info('function response', {
        bytes: size, body: outputPrefix(chunks, DEBUG_BODY_BYTES),
        truncated: cut || undefined, shownBytes: cut ? DEBUG_BODY_BYTES : undefined,
      });
    }
    if (status.code === 0) {
      res.writeHead(200, {
        'Content-Type': deps.config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': size,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
    } else {
      const head = Buffer.from(`${describeExit(status)}\n`);
      const code = exitCode(status);
      deps.log.warn('function failed', { exitCode: code, signal: status.signal ?? undefined });
      res.writeHead(500, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': head.length + size,
        'X-Exit-Code': code,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.write(head);
    }
    // Chunk by chunk: a 200 MB answer is not copied once more into one buffer.
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) res.write(chunks[i]);
    res.end(last >= 0 ? chunks[last] : undefined);
  }
}
