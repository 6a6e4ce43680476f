// `whippet calls list|show|retry|cancel`: the /system/calls API from the command line.
// The router is found with --gateway (env OPENFAAS_URL, as faas-cli does); Basic credentials come from
// --user/--password or OPENFAAS_USER/OPENFAAS_PASSWORD, else from what `faas-cli login` saved for that
// gateway (cli/openfaas-config.ts). Exit 0 on success, 1 when the router says no.

import type { Argv } from 'yargs';
import { RouterUnreachableError, UsageError } from '../errors.js';
import { authorizationOf, openfaasConfigDir, savedAuth } from '../openfaas-config.js';

interface CallsArgs {
  action: 'list' | 'show' | 'retry' | 'cancel';
  gateway?: string; user?: string; password?: string; json?: boolean;
  function?: string; status?: string; limit?: number; id?: string;
}

interface Row {
  id: string; functionName: string; status: string; acceptedAt: number; finishedAt: number | null;
  attempts: unknown[]; lastStatusCode: number | null; callback: { state: string; attempts: number };
}

async function call(args: CallsArgs, method: string, path: string): Promise<{ status: number; body: string }> {
  const gateway = (args.gateway ?? process.env['OPENFAAS_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const user = args.user ?? process.env['OPENFAAS_USER'];
  const password = args.password ?? process.env['OPENFAAS_PASSWORD'];
  const headers: Record<string, string> = {};
  if (user !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  else {
    // No credentials given: what `faas-cli login --gateway <same URL>` saved, if anything.
    const saved = savedAuth(gateway, openfaasConfigDir(process.env));
    if (saved !== undefined) headers['Authorization'] = authorizationOf(saved);
  }
  try {
    const res = await fetch(`${gateway}${path}`, { method, headers, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    // As `whippet invoke` says it: the router's address, the reason's code, and what to check.
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    const reason = (err as Error).name === 'TimeoutError' ? 'no answer within 30 s' : cause?.code ?? cause?.message ?? (err as Error).message;
    throw RouterUnreachableError.at(gateway, reason, err);
  }
}

function table(rows: Row[]): string {
  const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
  const lines = [['CALL ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'LAST CODE', 'CALLBACK', 'ACCEPTED', 'FINISHED']];
  for (const row of rows) {
    lines.push([row.id, row.functionName, row.status, String(row.attempts.length), String(row.lastStatusCode ?? '-'),
      row.callback.state === 'none' ? '-' : `${row.callback.state} (${row.callback.attempts})`, when(row.acceptedAt), when(row.finishedAt)]);
  }
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines.map((line) => line.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

async function request(args: CallsArgs, method: string, path: string, render: (body: string) => string): Promise<number> {
  const res = await call(args, method, path);
  if (res.status >= 400) {
    process.stderr.write(`whippet calls: ${res.status} ${res.body.trim()}\n`);
    return 1;
  }
  process.stdout.write(`${args.json === true ? res.body.trim() : render(res.body)}\n`);
  return 0;
}

const pretty = (body: string): string => JSON.stringify(JSON.parse(body), null, 2);
const idPath = (id: string): string => `/system/calls/${encodeURIComponent(id)}`;

const ACTIONS = ['list', 'show', 'retry', 'cancel'] as const;

// One command with the action as a positional, so its run() is the one handler and returns the exit code.
export const command = {
  command: 'calls <action> [id]',
  describe: 'list, show, retry or cancel async calls (the /system/calls API)',
  builder: (parser: Argv) => parser
    .positional('action', { choices: ACTIONS, describe: 'list: calls, newest first; show: one call (attempts, result, callback); retry: send a failed or expired call round again; cancel: cancel a queued call' })
    .positional('id', { type: 'string', describe: 'the call (show, retry, cancel)' })
    .option('gateway', { type: 'string', describe: 'router URL', defaultDescription: 'env OPENFAAS_URL, else http://127.0.0.1:8080' })
    .option('user', { type: 'string', describe: 'Basic auth user', defaultDescription: 'env OPENFAAS_USER, else faas-cli login\'s saved one' })
    .option('password', { type: 'string', describe: 'Basic auth password', defaultDescription: 'env OPENFAAS_PASSWORD' })
    .option('json', { type: 'boolean', describe: 'print the raw JSON' })
    .option('function', { type: 'string', describe: 'list: only this function' })
    .option('status', { type: 'string', describe: 'list: queued, running, succeeded, failed, expired, cancelled (comma-separated)' })
    .option('limit', { type: 'number', describe: 'list: 1..1000', default: 100 })
    .example('$0 calls list --status failed', 'failed calls, newest first')
    .example('$0 calls show <id>', 'one call')
    .strict(),
};

export async function run(args: CallsArgs): Promise<number> {
  if (args.action === 'list') {
    const query = new URLSearchParams();
    if (args.function !== undefined) query.set('function', args.function);
    if (args.status !== undefined) query.set('status', args.status);
    if (args.limit !== undefined) query.set('limit', String(args.limit));
    return request(args, 'GET', `/system/calls?${query}`, (body) => table(JSON.parse(body) as Row[]));
  }
  if (args.id === undefined) throw new UsageError(`calls ${args.action} needs a call id`);
  switch (args.action) {
    case 'show': return request(args, 'GET', idPath(args.id), pretty);
    case 'retry': return request(args, 'POST', `${idPath(args.id)}/retry`, (body) => `queued again: ${(JSON.parse(body) as Row).id}`);
    case 'cancel': return request(args, 'DELETE', idPath(args.id), (body) => `cancelled: ${(JSON.parse(body) as Row).id}`);
  }
}
