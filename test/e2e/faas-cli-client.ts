// faas-cli's requests, one function per command, exactly as /work/helpers/faas-cli-facts.md records them
// (faas-cli itself cannot be built here: it needs Go 1.24): the paths, methods, headers and bodies it
// sends, and its decoding of the answers with the Go types it decodes into. A decode that faas-cli would
// fail (a string for a uint64, "" for a time.Time, a null provider) fails here too.

import { request } from 'undici';

const PROXY_UA = 'faas-cli/dev';
const INVOKE_UA = 'faas-cli/dev (openfaas; linux; amd64)';

/** Authorization of the proxy client: a saved basic login, else `Bearer ` with the empty saved token. */
export function proxyAuth(basic?: string): string {
  return basic === undefined ? 'Bearer ' : `Basic ${Buffer.from(basic).toString('base64')}`;
}

/** Go's url.Values.Encode(): keys sorted, percent-encoded. */
export function goQuery(values: Record<string, string>): string {
  return Object.keys(values).sort().map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(values[k]!)}`).join('&');
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

async function get(url: string, headers: Record<string, string>): Promise<Answer> {
  const res = await request(url, { method: 'GET', headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** Go's decoding checks for the FunctionStatus fields faas-cli reads. Throws naming the field. */
export function decodeFunctionStatus(v: unknown): FunctionStatus {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`FunctionStatus: not an object: ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  const str = (k: string): void => { if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') throw new Error(`${k}: Go string, got ${JSON.stringify(o[k])}`); };
  for (const k of ['name', 'image', 'namespace', 'envProcess']) str(k);
  for (const k of ['replicas', 'availableReplicas']) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && Number.isInteger(o[k]) && (o[k] as number) >= 0)) throw new Error(`${k}: Go uint64, got ${JSON.stringify(o[k])}`);
  }
  if (o['invocationCount'] !== undefined && typeof o['invocationCount'] !== 'number') throw new Error(`invocationCount: Go float64, got ${JSON.stringify(o['invocationCount'])}`);
  for (const k of ['labels', 'annotations', 'envVars']) {
    const m = o[k];
    if (m === undefined || m === null) continue;
    if (typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((x) => typeof x !== 'string')) throw new Error(`${k}: Go map[string]string, got ${JSON.stringify(m)}`);
  }
  if (o['createdAt'] !== undefined && o['createdAt'] !== null) {
    // Go's time.Time accepts RFC 3339 only; "" fails the whole decode.
    if (typeof o['createdAt'] !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(o['createdAt'])) {
      throw new Error(`createdAt: Go time.Time (RFC 3339), got ${JSON.stringify(o['createdAt'])}`);
    }
  }
  return {
    name: (o['name'] as string | undefined) ?? '', image: (o['image'] as string | undefined) ?? '', namespace: (o['namespace'] as string | undefined) ?? '',
    envProcess: (o['envProcess'] as string | undefined) ?? '', replicas: (o['replicas'] as number | undefined) ?? 0,
    availableReplicas: (o['availableReplicas'] as number | undefined) ?? 0, invocationCount: (o['invocationCount'] as number | undefined) ?? 0,
    createdAt: o['createdAt'] as string | undefined,
  };
}

export interface FunctionStatus {
  name: string; image: string; namespace: string; envProcess: string;
  replicas: number; availableReplicas: number; invocationCount: number; createdAt: string | undefined;
}

/** `faas-cli list -g G [-n ns]`: the decoded array, or faas-cli's error text. */
export async function list(g: string, opts: { ns?: string; basic?: string } = {}): Promise<{ answer: Answer; functions?: FunctionStatus[]; error?: string }> {
  const q = opts.ns === undefined ? '' : `?${goQuery({ namespace: opts.ns })}`;
  const answer = await get(`${g}/system/functions${q}`, { 'user-agent': PROXY_UA, authorization: proxyAuth(opts.basic) });
  if (answer.status === 401) return { answer, error: 'Unauthorized access, run "faas-cli login" to setup authentication for this server' };
  if (answer.status !== 200) return { answer, error: `Server returned unexpected status code: ${answer.status} - ${answer.text}` };
  const doc = JSON.parse(answer.text) as unknown;
  if (!Array.isArray(doc)) throw new Error(`Cannot parse result from OpenFaaS on URL: ${g}`);
  return { answer, functions: doc.map(decodeFunctionStatus) };
}

/** `faas-cli describe NAME` (its first request) and `faas-cli ready NAME` (one attempt). */
export async function describe(g: string, name: string, opts: { ns?: string; basic?: string } = {}): Promise<{ answer: Answer; fn?: FunctionStatus; error?: string }> {
  const q = goQuery(opts.ns === undefined ? { usage: '1' } : { namespace: opts.ns, usage: '1' });
  const answer = await get(`${g}/system/function/${name}?${q}`, { 'user-agent': PROXY_UA, authorization: proxyAuth(opts.basic) });
  if (answer.status === 404) return { answer, error: `No such function: ${name}` };
  if (answer.status !== 200) return { answer, error: `Server returned unexpected status code: ${answer.status} - ${answer.text}` };
  return { answer, fn: decodeFunctionStatus(JSON.parse(answer.text)) };
}

/** `faas-cli invoke NAME [-a] [-H ..] [--query ..] [--method ..] [-n ns]`: what it prints to stdout / stderr. */
export async function invoke(g: string, name: string, body: string, opts: {
  ns?: string; async?: boolean; headers?: Array<[string, string]>; query?: Record<string, string>; method?: string; contentType?: string;
} = {}): Promise<{ answer: Answer; stdout: string; stderr: string; exit: number }> {
  const { protocol, host } = new URL(g);
  const q = opts.query === undefined ? '' : `?${goQuery(opts.query)}`;
  const url = `${protocol}//${host}/${opts.async ? 'async-function' : 'function'}/${name}.${opts.ns ?? 'openfaas-fn'}${q}`;
  const headers: Record<string, string | string[]> = { 'user-agent': INVOKE_UA };
  for (const [k, v] of opts.headers ?? []) {
    const key = k.toLowerCase();
    const had = headers[key];
    headers[key] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
  }
  if (opts.contentType !== undefined || headers['content-type'] === undefined) headers['content-type'] = opts.contentType ?? 'text/plain';
  const res = await request(url, { method: (opts.method ?? 'POST') as 'POST', headers, body: opts.method === 'GET' ? undefined : body });
  const answer = { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  if (answer.status < 200 || answer.status > 299) {
    return { answer, stdout: `Server returned unexpected status code: ${answer.status} - ${answer.text}\n`, stderr: '', exit: 1 };
  }
  if (opts.async && answer.status === 202) return { answer, stdout: '', stderr: 'Function submitted asynchronously.\n', exit: 0 };
  return { answer, stdout: answer.text, stderr: '', exit: 0 };
}

/** `faas-cli namespace list`: the SDK client (no auth unless a login is saved, path replaced). */
export async function namespaces(g: string, basic?: string): Promise<{ answer: Answer; names: string[] }> {
  const { protocol, host } = new URL(g);
  const headers: Record<string, string> = { 'user-agent': 'openfaas-go-sdk' };
  if (basic !== undefined) headers['authorization'] = proxyAuth(basic);
  const answer = await get(`${protocol}//${host}/system/namespaces`, headers);
  if (answer.status === 401) throw new Error('Check authorization, status code: 401');
  const names = answer.text === '' ? [] : JSON.parse(answer.text) as unknown;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new Error(`Unable to marshal to JSON: ${answer.text}`);
  return { answer, names: names as string[] };
}

/** `faas-cli version -g G --warn-update=false`: the Gateway and Provider block it prints. */
export async function version(g: string): Promise<{ answer: Answer; printed: string }> {
  const answer = await get(`${g}/system/info`, { 'user-agent': PROXY_UA, authorization: proxyAuth() });
  const info = JSON.parse(answer.text) as Record<string, unknown>;
  const obj = (v: unknown, what: string): Record<string, unknown> => {
    // faas-cli dereferences these without a nil check: a null or missing one panics it.
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} must be an object (faas-cli panics on nil), got ${JSON.stringify(v)}`);
    return v as Record<string, unknown>;
  };
  const s = (v: unknown, what: string): string => { if (typeof v !== 'string') throw new Error(`${what}: Go string, got ${JSON.stringify(v)}`); return v; };
  const gw = obj(info['version'], 'version');
  const provider = obj(info['provider'], 'provider');
  const pv = obj(provider['version'], 'provider.version');
  const release = s(gw['release'], 'version.release');
  const printed = ['Gateway', ` uri:     ${g}`, ...(release === '' ? [] : [` version: ${release}`, ` sha:     ${s(gw['sha'], 'version.sha')}`]), '',
    'Provider', ` name:          ${s(provider['provider'], 'provider.provider')}`, ` orchestration: ${s(provider['orchestration'], 'provider.orchestration')}`,
    ` version:       ${s(pv['release'], 'provider.version.release')}`, ` sha:           ${s(pv['sha'], 'provider.version.sha')}`].join('\n');
  return { answer, printed };
}

/** `faas-cli login`'s check request (Go's default UA, Basic credentials). */
export async function loginCheck(g: string, user: string, password: string): Promise<{ answer: Answer; printed: string }> {
  const answer = await get(`${g}/system/functions`, { 'user-agent': 'Go-http-client/1.1', authorization: proxyAuth(`${user}:${password}`) });
  const printed = answer.status === 200 ? `credentials saved for ${user} ${g}`
    : answer.status === 401 ? 'Unable to login, either username or password is incorrect'
      : `Server returned unexpected status code: ${answer.status} - ${answer.text}`;
  return { answer, printed };
}

/** `faas-cli logs NAME [--tail=false] [--since ..]`: the request and the decoded stream, as faas-cli prints it (plain). */
export function logsUrl(g: string, name: string, opts: { follow?: boolean; lines?: number; since?: string; ns?: string } = {}): string {
  const values: Record<string, string> = { follow: String(opts.follow ?? true), name };
  if (opts.ns !== undefined) values['namespace'] = opts.ns;
  if (opts.since !== undefined) values['since'] = opts.since;
  if ((opts.lines ?? -1) !== 0) values['tail'] = String(opts.lines ?? -1);
  return `${g}/system/logs?${goQuery(values)}`;
}

export interface LogEntry { name: string; namespace: string; instance: string; timestamp: string; text: string }

/** Decode one object of the log stream as faas-cli does (all five fields strings, timestamp RFC 3339). */
export function decodeLogEntry(line: string): LogEntry {
  const o = JSON.parse(line) as Record<string, unknown>;
  for (const k of ['name', 'namespace', 'instance', 'timestamp', 'text']) if (typeof o[k] !== 'string') throw new Error(`${k}: Go string, got ${JSON.stringify(o[k])}`);
  if (Number.isNaN(Date.parse(o['timestamp'] as string)) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(o['timestamp'] as string)) throw new Error(`timestamp: RFC 3339, got ${o['timestamp']}`);
  return o as unknown as LogEntry;
}

export { PROXY_UA, INVOKE_UA };
