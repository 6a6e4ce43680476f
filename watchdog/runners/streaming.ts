// streaming mode: fork per request, stdout streams to the client with backpressure both ways.
// 200 goes out with the first byte; a failure after that is reported in the trailer X-Exit-Code and the log.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { durationSeconds, toResponse, type ExecTimeoutError } from '../errors.js';
import type { ExitStatus } from '../spawn/types.js';
import { ForkCall, ForkRunner, OUTPUT_LINGER_MS, describeExit, exitCode } from './fork.js';
import type { Runner, RunnerDeps } from './types.js';

const TRAILERS = 'X-Exit-Code, X-Duration-Seconds, X-Watchdog-Error';
/** Exit code reported in the trailer when exec_timeout killed the group (128 + SIGKILL). */
const KILLED_EXIT_CODE = 137;

/**
 * streaming mode: output chunks are emitted as they come, with backpressure. After the handler exits its
 * output may linger as long as in serializing mode (an escaped daemon holding stdout cannot hold the
 * response); the linger clock stops while a slow client holds the output back, so nothing is cut unread.
 */
export function streamingRunner(deps: RunnerDeps): Runner {
  return new ForkRunner(deps, StreamingCall, 'emit', OUTPUT_LINGER_MS);
}

class StreamingCall extends ForkCall {
  // Trailers need chunked encoding: HTTP/1.1 and a body.
  private readonly trailers = this.req.httpVersionMinor >= 1 && this.req.method !== 'HEAD';

  protected output(chunk: Buffer): void {
    const { res } = this;
    if (!res.headersSent) {
      res.setHeader('Content-Type', this.deps.config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream');
      if (this.trailers) res.setHeader('Trailer', TRAILERS);
      res.writeHead(200);
    }
    if (!res.write(chunk)) {
      this.run!.pause();
      res.once('drain', this.onResponseDrain);
    }
  }

  private readonly onResponseDrain = (): void => { this.run!.resume(); };

  protected timedOut(err: ExecTimeoutError): void {
    if (!this.res.headersSent) {
      toResponse(this.res, err, this.startedAt);
      return;
    }
    this.finish({ 'X-Exit-Code': String(KILLED_EXIT_CODE), 'X-Watchdog-Error': 'WD_ERR_EXEC_TIMEOUT' });
  }

  protected finished(status: ExitStatus): void {
    const { res, deps } = this;
    const code = exitCode(status);
    if (code !== 0) deps.log.warn('function failed', { exitCode: code, signal: status.signal ?? undefined, streamed: res.headersSent });
    if (res.headersSent) {
      this.finish({ 'X-Exit-Code': String(code) });
    } else if (code === 0) {
      res.writeHead(200, {
        'Content-Type': deps.config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': 0,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.end();
    } else {
      const body = `${describeExit(status)}\n`;
      res.writeHead(500, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'X-Exit-Code': code,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.end(body);
    }
  }

  private finish(trailers: Record<string, string>): void {
    if (this.trailers) this.res.addTrailers({ ...trailers, 'X-Duration-Seconds': durationSeconds(this.startedAt) });
    this.res.end();
  }
}
