// Basic auth for /system/*: credentials come from two files (as OpenFaaS mounts them), and are
// compared in constant time so a wrong guess takes as long as a nearly-right one.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../common/options.js';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** Read basic-auth-user and basic-auth-password under `dir`; a missing or empty file stops the start. */
export function loadBasicAuth(dir: string, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): BasicCredentials {
  const problems: string[] = [];
  const read = (file: string): string => {
    const path = join(dir, file);
    try {
      // Secrets written with `echo` end in a newline that is not part of the value.
      const value = readFile(path).replace(/\r?\n$/, '');
      if (value === '') problems.push(`basic_auth: ${path} is empty`);
      return value;
    } catch (err) {
      problems.push(`basic_auth: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set secret_mount_path`);
      return '';
    }
  };
  const creds = { user: read('basic-auth-user'), password: read('basic-auth-password') };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(creds);
}

// Hashing first makes both sides the same length, so timingSafeEqual never short-circuits on length.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** True when `authorization` carries exactly these Basic credentials. */
export function checkBasicAuth(authorization: string | undefined, creds: BasicCredentials): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  const decoded = m === null ? '' : Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? '' : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  // Both comparisons always run: no early exit that would tell a right user name from a wrong one.
  const userOk = timingSafeEqual(digest(user), digest(creds.user));
  const passwordOk = timingSafeEqual(digest(password), digest(creds.password));
  return m !== null && colon !== -1 && userOk && passwordOk;
}
