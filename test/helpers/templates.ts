// Helpers for the template tests: assemble a build folder the way `whippet build` does (template
// files + the handler in function/), run its fprocess as the watchdog would (from the Dockerfile's
// ENV, cwd = the build folder, request details as Http_* variables), and start http-mode entries.

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerfileEnv, parseDockerfile } from '../../stack/dockerfile.js';
import { splitCommand } from '../../watchdog/command.js';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEMPLATES = ['bash', 'node', 'python3', 'node-http'] as const;

/** Copies templates/<lang> to dest and the handler folder (default: the template's skeleton) into dest/function. */
export function assembleBuildFolder(lang: string, dest: string, handlerDir?: string): string {
  const templateDir = join(REPO, 'templates', lang);
  cpSync(templateDir, dest, { recursive: true });
  if (handlerDir !== undefined) {
    rmSync(join(dest, 'function'), { recursive: true, force: true });
    cpSync(handlerDir, join(dest, 'function'), { recursive: true });
  }
  return dest;
}

/** The ENV of a build folder's Dockerfile. */
export function folderEnv(folder: string): Record<string, string> {
  return dockerfileEnv(parseDockerfile(readFileSync(join(folder, 'Dockerfile'), 'utf8')));
}

/** The environment for children: ours without the slow CA variable, no .pyc files in the fixtures. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export interface ForkRequest {
  body?: string | Buffer;
  method?: string;
  path?: string;
  query?: string;
  /** Header env names as the watchdog makes them, e.g. { Http_X_Custom: 'v' }. */
  headers?: Record<string, string>;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface ForkResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  elapsedMs: number;
}

/** Runs the folder's fprocess once with the request on stdin, as the watchdog does per request. */
export function runFprocess(folder: string, req: ForkRequest = {}): Promise<ForkResult> {
  const dockerEnv = folderEnv(folder);
  const [cmd, ...args] = splitCommand(dockerEnv.fprocess ?? '');
  if (cmd === undefined) throw new Error(`${folder}/Dockerfile sets no fprocess`);
  const body = Buffer.from(req.body ?? '');
  const env = childEnv({
    ...dockerEnv,
    ...req.env,
    Http_Method: req.method ?? 'POST',
    Http_Path: req.path ?? '/',
    Http_Query: req.query ?? '',
    Http_ContentLength: String(body.length),
    ...req.headers,
  });
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: folder, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), req.timeoutMs ?? 20_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'),
        elapsedMs: performance.now() - started,
      });
    });
    // A handler that exits without reading stdin closes the pipe: that is not a test failure.
    child.stdin.on('error', () => {});
    child.stdin.end(body);
  });
}

export interface HttpEntry {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts a node-http build folder's fprocess with env, resolving once it logs its listening URL. */
export function startHttpEntry(folder: string, env: Record<string, string>, timeoutMs = 15_000): Promise<HttpEntry> {
  const [cmd, ...args] = splitCommand(folderEnv(folder).fprocess ?? '');
  const child = spawn(cmd!, args, { cwd: folder, env: childEnv({ ...folderEnv(folder), ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no listening line within ${timeoutMs} ms: ${log}`)); }, timeoutMs);
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m !== null) { clearTimeout(timer); resolvePromise({ child, url: m[1]!, stderr: () => log }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`entry exited with ${code} before listening: ${log}`)); });
  });
}

/** Stops a child and waits for it to be gone. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await gone;
}
