// What the fork modes share: start the handler for one request (CGI env, stdin fed from the body),
// stop it (kill the whole group), and describe how it ended.

import type { IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { requestEnv } from '../cgi-env.js';
import { SpawnError } from '../errors.js';
import type { ExitStatus, SpawnedProcess } from '../spawn/types.js';
import type { RunnerDeps } from './types.js';

/**
 * After the handler exits, how long its pipes may stay open. Its process group is killed at exit, so only a
 * process that left the group (setsid) can hold them; the response must not wait on that.
 */
export const OUTPUT_LINGER_MS = 1000;

/** Spawn the handler for `req`; the request body streams into its stdin. Rejects with SpawnError. */
export async function forkFor(deps: RunnerDeps, req: IncomingMessage): Promise<SpawnedProcess> {
  const [file, ...args] = deps.config.fprocess;
  let proc: SpawnedProcess;
  try {
    proc = await deps.backend!.spawn({ file: file!, args, env: requestEnv(deps.env, req) });
  } catch (err) {
    throw new SpawnError(file!, err);
  }
  // A handler may exit without reading its input: EPIPE on stdin is not a failure of the request.
  proc.stdin.on('error', ignore);
  if (deps.config.marshalRequest) void marshalInto(req, proc.stdin);
  else req.pipe(proc.stdin);
  return proc;
}

export function ignore(): void {}

/** The classic watchdog's marshal_request: {"header":{Name:[values]},"body":{"raw":base64}}. */
async function marshalInto(req: IncomingMessage, stdin: Writable): Promise<void> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    stdin.destroy();
    return;
  }
  const header: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headersDistinct)) header[canonical(name)] = value ?? [];
  stdin.end(JSON.stringify({ header, body: { raw: Buffer.concat(chunks).toString('base64') } }));
}

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

/** Resolves when `stream` has ended, closed or failed. */
export function ended(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', resolve);
  });
}

/** Wait for the output streams to end, at most OUTPUT_LINGER_MS, then cut them. */
export async function drainOutput(streams: readonly Readable[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(streams.map(ended)),
      new Promise((resolve) => { timer = setTimeout(resolve, OUTPUT_LINGER_MS); }),
    ]);
  } finally {
    clearTimeout(timer);
    for (const s of streams) if (!s.readableEnded) s.destroy();
  }
}

/** The exit code the shell would report: the code, or 128 + signal number. */
export function exitCode(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  return 128 + (status.signal !== null ? constants.signals[status.signal] ?? 0 : 0);
}

/** `exit status 3` / `signal: SIGSEGV`, as Go's exec package words it. */
export function describeExit(status: ExitStatus): string {
  return status.code !== null ? `exit status ${status.code}` : `signal: ${status.signal}`;
}
