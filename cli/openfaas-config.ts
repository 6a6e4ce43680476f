// The credentials `faas-cli login` saved: <dir>/config.yml, where dir is $OPENFAAS_CONFIG, else ./.openfaas
// when CI is true or 1, else ~/.openfaas. One entry per gateway, found by the gateway URL as faas-cli
// normalises it (lower-case, no trailing slash, http:// added when missing). Only read, never written.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RefusedError } from './errors.js';

export type SavedAuth =
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

/** The folder faas-cli keeps config.yml in. */
export function openfaasConfigDir(env: Readonly<Record<string, string | undefined>>, cwd = process.cwd(), home = homedir()): string {
  if (env['OPENFAAS_CONFIG'] !== undefined && env['OPENFAAS_CONFIG'] !== '') return env['OPENFAAS_CONFIG'];
  if (env['CI'] === 'true' || env['CI'] === '1') return join(cwd, '.openfaas');
  return join(home, '.openfaas');
}

/** A gateway URL as faas-cli keys it. */
export function normaliseGateway(url: string): string {
  const lower = url.trim().toLowerCase().replace(/\/+$/, '');
  return lower.startsWith('http') ? lower : `http://${lower}`;
}

/**
 * The saved login for `gateway`, or undefined when there is no file or no entry. A file that is there but
 * cannot be read as faas-cli's format is refused, naming it.
 */
export function savedAuth(gateway: string, dir: string, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): SavedAuth | undefined {
  const file = join(dir, 'config.yml');
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RefusedError(`cannot read faas-cli's saved logins in ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RefusedError(`${file} is not faas-cli's config (not YAML: ${(err as Error).message.split('\n')[0]}); run faas-cli login again or pass --user/--password`, { cause: err });
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (auths === undefined || auths === null) return undefined;
  if (!Array.isArray(auths)) throw new RefusedError(`${file}: auths must be a list of {gateway, auth, token}`);
  const key = normaliseGateway(gateway);
  const entry = auths.find((a: unknown) => typeof a === 'object' && a !== null && (a as { gateway?: unknown }).gateway === key) as
    { auth?: unknown; token?: unknown } | undefined;
  if (entry === undefined || typeof entry.token !== 'string') return undefined;
  if (entry.auth === 'oauth2') return { kind: 'bearer', token: entry.token };
  const decoded = Buffer.from(entry.token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new RefusedError(`${file}: the basic token saved for ${key} is not base64 of user:password; run faas-cli login again`);
  return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The Authorization header value of a saved login. */
export function authorizationOf(auth: SavedAuth): string {
  return auth.kind === 'bearer' ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
}
