// The CGI environment of one forked request (OpenFaaS spelling): Http_Method, Http_Path, Http_Query,
// Http_Host, Http_ContentLength and Http_<Header_Name> per header. Pure; the caller passes the base env.

const ENV_NAME = /^[A-Za-z0-9_]+$/;
// Go's token characters (RFC 7230 tchar): CanonicalMIMEHeaderKey leaves a name unchanged if it has others.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: `x-call-id` → `X-Call-Id`; names with non-token bytes stay as they are. */
export function canonicalHeaderName(name: string): string {
  if (!TOKEN.test(name)) return name;
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** The variable for a header (`X-Call-Id` → `Http_X_Call_Id`), or undefined when the name cannot be one. */
export function headerEnvName(name: string): string | undefined {
  const key = canonicalHeaderName(name).replace(/-/g, '_');
  return ENV_NAME.test(key) ? `Http_${key}` : undefined;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A header value as the handler must see it. Node reads header bytes as latin1 (one char a byte); both spawn
 * paths encode env strings as UTF-8, so é (C3 A9) would arrive as C3 83 C2 A9. Decoding the bytes as UTF-8
 * gives the string whose UTF-8 is those very bytes. Bytes that are not UTF-8 cannot cross an environment made
 * of strings at all: each bad sequence becomes U+FFFD, as in Node's own process.env.
 */
export function headerValue(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** What the env builder needs from a request (node's IncomingMessage fits). */
export interface CgiRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  /** Alternating names and values, as received. */
  readonly rawHeaders: readonly string[];
  readonly headers: { readonly host?: string | undefined; readonly 'content-length'?: string | undefined; readonly 'transfer-encoding'?: string | undefined };
}

// Header name → variable name (or null), for the names a server sees again and again; bounded.
const names = new Map<string, string | null>();
const MAX_CACHED_NAMES = 512;

function cachedEnvName(name: string): string | undefined {
  let key = names.get(name);
  if (key === undefined) {
    key = headerEnvName(name) ?? null;
    if (names.size < MAX_CACHED_NAMES) names.set(name, key);
  }
  return key ?? undefined;
}

/**
 * The request's own variables (what requestEnv adds to the base): Http_<Header> per header (the first of
 * repeated headers wins, as in Go), then Http_Method, Http_Path, Http_Query, Http_Host, Http_ContentLength,
 * which no header can change.
 */
export function requestVariables(req: CgiRequest): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const key = cachedEnvName(raw[i]!);
    if (key !== undefined) env[key] = headerValue(raw[i + 1]!);
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  env.Http_Method = req.method ?? 'GET';
  env.Http_Path = q === -1 ? url : url.slice(0, q);
  env.Http_Query = q === -1 ? '' : url.slice(q + 1);
  env.Http_Host = headerValue(req.headers.host ?? '');
  // As the classic watchdog: -1 for a chunked body, 0 when there is no body.
  env.Http_ContentLength = req.headers['content-length'] ?? (req.headers['transfer-encoding'] !== undefined ? '-1' : '0');
  return env;
}

/**
 * The child's environment: a copy of `base` plus the request variables. Headers go first (first value wins,
 * as in Go) and the request variables last, so a header such as `Method:` can never change Http_Method.
 */
export function requestEnv(base: Readonly<Record<string, string>>, req: CgiRequest): Record<string, string> {
  return { ...base, ...requestVariables(req) };
}

/** The watchdog's own environment with undefined values dropped: the base every request copies. */
export function baseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
