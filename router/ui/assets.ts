// The dashboard's files, built by `npm run build` (ui/build.mjs) into dist/ui/: read once, gzipped
// once, then served from memory with an ETag. Only the names the build wrote can be asked for.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './headers.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

interface Asset {
  readonly type: string;
  readonly raw: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** The built files by name, or undefined when the dashboard was not built. */
export interface Assets {
  get(name: string): Asset | undefined;
  readonly dir: string | undefined;
}

/** Where the build put the files: dist/ui beside the compiled router, or under dist/ when run from source. */
export function defaultAssetDir(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [join(here, '../../ui'), join(here, '../../dist/ui')].find((d) => existsSync(join(d, 'index.html')));
}

// node:zlib is loaded with the files, at the first dashboard request, not when the router starts.
const require = createRequire(import.meta.url);

/** Load every file of `dir` (flat) into memory. */
export function loadAssets(dir: string | undefined = defaultAssetDir()): Assets {
  const { gzipSync } = require('node:zlib') as typeof import('node:zlib');
  const files = new Map<string, Asset>();
  if (dir !== undefined) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type === undefined) continue;
      const raw = readFileSync(join(dir, name));
      files.set(name, { type, raw, gzip: gzipSync(raw, { level: 9 }), etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 16)}"` });
    }
  }
  return { get: (name) => files.get(name), dir };
}

/** Send one asset (304 when the ETag matches, gzip when accepted). */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, cache: string): void {
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS, 'Content-Type': asset.type, ETag: asset.etag, 'Cache-Control': cache, Vary: 'Accept-Encoding',
  };
  if (req.headers['if-none-match'] === asset.etag) { res.writeHead(304, headers); res.end(); return; }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzip : asset.raw;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = body.byteLength;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
