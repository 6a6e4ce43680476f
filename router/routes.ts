// Pure request-target matching: which route, which function, which path suffix and query.
// Anything that could make a proxied path mean something other than it says is refused here,
// before a resolver or an upstream ever sees it.

import { BadNameError, BadPathError, NotFoundError, type RouterError } from './errors.js';

/** A function name as OpenFaaS allows it; `name.namespace` is one name. */
export const NAME_PATTERN = /^[-a-zA-Z_0-9.]+$/;

/** /function/{name}/… or /async-function/{name}/…: the name, the raw path suffix ('' or /…) and raw query. */
export interface InvocationRoute {
  readonly kind: 'function' | 'async';
  readonly name: string;
  readonly path: string;
  readonly query: string;
}

export type RouteMatch =
  | InvocationRoute
  | { readonly kind: 'system' | 'ui'; readonly path: string; readonly query: string }
  | { readonly kind: 'healthz' | 'metrics'; readonly query: string };

const PREFIXES: ReadonlyArray<readonly ['function' | 'async', string]> = [
  ['function', '/function/'],
  ['async', '/async-function/'],
];

/** Match a raw request target (`req.url`); returns the route or the error to answer with. */
export function matchRoute(target: string): RouteMatch | RouterError {
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const problem = pathProblem(rawPath);
  if (problem !== undefined) return new BadPathError(problem);

  for (const [kind, prefix] of PREFIXES) {
    if (!rawPath.startsWith(prefix)) continue;
    const rest = rawPath.slice(prefix.length);
    const slash = rest.indexOf('/');
    // Every character a name may hold is unreserved (RFC 3986 §2.3), so its percent-encoding means the
    // same name (/function/%65cho is echo); pathProblem has already refused bad encodings and dot segments.
    const written = slash === -1 ? rest : rest.slice(0, slash);
    const name = safeDecode(written) ?? written;
    if (name === '') return new NotFoundError(rawPath);
    if (!NAME_PATTERN.test(name)) return new BadNameError(name);
    return { kind, name, path: slash === -1 ? '' : rest.slice(slash), query };
  }
  if (rawPath === '/system' || rawPath.startsWith('/system/')) {
    return { kind: 'system', path: rawPath.slice('/system'.length), query };
  }
  if (rawPath === '/ui' || rawPath.startsWith('/ui/')) return { kind: 'ui', path: rawPath.slice('/ui'.length), query };
  if (rawPath === '/healthz') return { kind: 'healthz', query };
  if (rawPath === '/metrics') return { kind: 'metrics', query };
  return new NotFoundError(rawPath);
}

const PLAIN_PATH = /^\/[-\w/]*$/;

/** Why a raw path must not be forwarded, or undefined when it is fine. Exported for tests. */
export function pathProblem(rawPath: string): string | undefined {
  // The common case, checked once: without `%` or `.` there is no encoding to decode and no dot segment.
  if (PLAIN_PATH.test(rawPath)) return undefined;
  if (!rawPath.startsWith('/')) return 'the path must start with /';
  // Node's parser already refuses raw spaces and most control characters; these checks are the
  // backstop for any other front end and for targets built by code (the queue-worker replays them).
  if (/[\s\x00-\x1f\x7f\\]/.test(rawPath)) return 'whitespace, control characters and backslashes are not allowed';
  // An encoded slash or backslash would let one "segment" turn into two once someone decodes it.
  if (/%(2f|5c)/i.test(rawPath)) return 'encoded slashes (%2F, %5C) are not allowed';
  if (/%00/.test(rawPath)) return 'encoded NUL is not allowed';
  for (const segment of rawPath.split('/')) {
    const decoded = safeDecode(segment);
    if (decoded === undefined) return `malformed percent-encoding in ${JSON.stringify(segment)}`;
    if (decoded === '.' || decoded === '..') return 'dot segments (. and ..) are not allowed';
  }
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
