// `whippet invoke <name>`: call a function through the router with stdin as the body, as
// `faas-cli invoke` does. The response body goes to stdout; a non-2xx status also goes to stderr and
// makes the exit code 1. With --async the call is queued and its id printed. Like faas-cli invoke it sends
// no gateway credentials: /function/* needs none, and a function must not see the router's password.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Argv } from 'yargs';
import { RouterUnreachableError, UsageError } from '../errors.js';

interface InvokeArgs {
  name: string; async: boolean; callback?: string; header?: string[]; method: string;
  query?: string[]; gateway: string;
}

// An HTTP header name (RFC 9110 token).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `-H 'Key: Value'` (faas-cli's form) or `-H key=value` (the older one). The colon form wins when what
 * precedes the first colon is a header name, so `X-Callback-Url=http://…` is still the `=` form.
 */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  const byColon = colon > 0 && TOKEN.test(text.slice(0, colon).trim());
  const at = byColon ? colon : eq;
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const value = at > 0 ? text.slice(at + 1).trim() : '';
  if (!TOKEN.test(name)) {
    throw new UsageError(`--header: expected 'Key: Value' or key=value with a header name, got ${JSON.stringify(text)}`);
  }
  return [name, value];
}

/** The URL and headers of one invocation; pure, so it is unit-tested. */
export function invocation(args: Pick<InvokeArgs, 'name' | 'async' | 'callback' | 'header' | 'query' | 'gateway'>): { url: URL; headers: Record<string, string> } {
  const base = args.gateway.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base) || !URL.canParse(base)) throw new UsageError(`--gateway: expected an http(s) URL, got ${JSON.stringify(args.gateway)}`);
  const url = new URL(`${base}/${args.async ? 'async-function' : 'function'}/${encodeURIComponent(args.name)}`);
  const query = (args.query ?? []).map((pair) => pair.replace(/^\?/, '')).filter((pair) => pair !== '').join('&');
  if (query !== '') url.search = query;
  if (args.callback !== undefined && !args.async) throw new UsageError('--callback needs --async (a sync call answers directly)');
  const headers: Record<string, string> = {};
  for (const header of args.header ?? []) {
    const [name, value] = parseHeader(header);
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (args.callback !== undefined) headers['X-Callback-Url'] = args.callback;
  return { url, headers };
}

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(url: URL, method: string, headers: Record<string, string>, body: Buffer): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const withBody = body.length > 0 || !['GET', 'HEAD'].includes(method);
    const req = request(url, { method, headers: withBody ? { ...headers, 'Content-Length': String(body.length) } : headers }, resolve);
    req.on('error', reject);
    req.end(withBody ? body : undefined);
  });
}

/** Call the function; resolves with the exit code. */
export async function run(args: InvokeArgs): Promise<number> {
  const { url, headers } = invocation(args);
  const method = args.method.toUpperCase();
  const body = await readStdin();
  let res: IncomingMessage;
  try {
    res = await send(url, method, headers, body);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw RouterUnreachableError.at(args.gateway, code, err);
  }
  const status = res.statusCode ?? 0;
  if (args.async && status === 202) {
    res.resume();
    const id = String(res.headers['x-call-id'] ?? '');
    process.stdout.write(`${id}\n`);
    process.stderr.write(`accepted: ${args.name} call ${id}; \`whippet calls show ${id}\` tells what happened\n`);
    return 0;
  }
  for await (const chunk of res) process.stdout.write(chunk as Buffer);
  if (status >= 200 && status < 300) return 0;
  const exit = res.headers['x-exit-code'];
  const by = res.headers['x-openfaas-internal'];
  process.stderr.write(`whippet invoke: ${args.name} answered ${status} ${res.statusMessage ?? ''}${exit === undefined ? '' : ` (X-Exit-Code: ${String(exit)})`}${by === undefined ? '' : ` (from the ${String(by)})`}\n`);
  return 1;
}

export const command = {
  command: 'invoke <name>',
  describe: 'call a function through the router, stdin as the body, the response on stdout',
  builder: (parser: Argv) => parser
    .positional('name', { type: 'string', demandOption: true, describe: 'the function' })
    .option('async', { alias: 'a', type: 'boolean', default: false, describe: 'queue the call (/async-function/<name>) and print its call id' })
    .option('callback', { type: 'string', describe: 'with --async: POST the result to this URL (X-Callback-Url)' })
    .option('header', { alias: 'H', type: 'string', array: true, describe: "request header 'Key: Value' or key=value (repeatable)" })
    .option('method', { alias: 'm', type: 'string', default: 'POST', describe: 'HTTP method' })
    .option('query', { alias: 'q', type: 'string', array: true, describe: 'query string key=value (repeatable)' })
    .option('gateway', { alias: 'g', type: 'string', default: process.env['OPENFAAS_URL'] ?? 'http://127.0.0.1:8080', defaultDescription: '$OPENFAAS_URL or http://127.0.0.1:8080', describe: 'the router' })
    .example('echo hi | $0 invoke echo', 'sync call; prints hi')
    .example("echo hi | $0 invoke echo -H 'X-Trace: 1' --query lang=en", 'with a header and a query string')
    .example('echo hi | $0 invoke echo --async --callback http://127.0.0.1:8080/function/receiver', 'prints the call id')
    .epilog('stdin is the body (none when stdin is a terminal). A non-2xx answer: its body on stdout, the status on stderr, exit code 1.') as Argv<InvokeArgs>,
};
