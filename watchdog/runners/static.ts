// static mode: serve static_path read-only (GET and HEAD). A URL can never name a file outside the folder:
// it is decoded once, normalised, joined, and the real path (symlinks resolved) must stay inside the root.

// fs.promises, read at the call (the start bundle keeps `fsp.x` a property read): node:fs/promises loads
// readline's modules, which only this mode needs (see common/wasm-tier.ts for what that saves).
import { createReadStream, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, sep } from 'node:path';
import { httpDateOf } from '../../common/utc-time.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError, toResponse } from '../errors.js';
import type { Runner, RunnerDeps } from './types.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.ico': 'image/x-icon', '.wasm': 'application/wasm',
  '.xml': 'application/xml', '.pdf': 'application/pdf', '.map': 'application/json', '.woff2': 'font/woff2',
};

/** The path below `root` that a request URL names, or undefined when it is malformed or would escape. Pure. */
export function staticFilePath(root: string, url: string): string | undefined {
  const q = url.search(/[?#]/);
  let path: string;
  try {
    path = decodeURIComponent(q === -1 ? url : url.slice(0, q));
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\') || !path.startsWith('/')) return undefined;
  const normal = posix.normalize(path);
  if (normal.split('/').includes('..')) return undefined;
  return join(root, normal);
}

export class StaticRunner implements Runner {
  private root = '';
  constructor(private readonly deps: RunnerDeps) {}

  async start(): Promise<void> {
    const path = this.deps.config.staticPath;
    try {
      this.root = await fsp.realpath(path);
      if (!(await fsp.stat(this.root)).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new Error(`static_path ${JSON.stringify(path)}: ${(err as Error).message}`, { cause: err });
    }
  }

  ready(): boolean { return true; }
  async stop(): Promise<void> {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((err: unknown) => toResponse(res, err));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('GET, HEAD');
    const candidate = staticFilePath(this.root, req.url ?? '/');
    if (candidate === undefined) throw new BadRequestError('bad path');
    let file: string;
    try {
      file = await fsp.realpath(candidate);
      if ((await fsp.stat(file)).isDirectory()) file = await fsp.realpath(join(file, 'index.html'));
    } catch {
      throw new NotFoundError();
    }
    // A symlink inside the folder may point outside it: check the resolved path, not the requested one.
    if (file !== this.root && !file.startsWith(this.root + sep)) throw new NotFoundError();
    const info = await fsp.stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile()) throw new NotFoundError();
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Last-Modified': httpDateOf(info.mtimeMs),
    });
    if (req.method === 'HEAD') { res.end(); return; }
    const stream = createReadStream(file);
    stream.on('error', (err) => res.destroy(err));
    stream.pipe(res);
  }
}
