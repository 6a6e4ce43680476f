// `whippet calls list|show|retry|cancel`: the /system/calls API from the command line.
// The router is found with --gateway (env OPENFAAS_URL, as faas-cli does); Basic credentials come from
// --user/--password or OPENFAAS_USER/OPENFAAS_PASSWORD. Exit 0 on success, 1 when the router says no.

import type { Argv, CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

interface CallsArgs {
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
  const res = await fetch(`${gateway}${path}`, { method, headers, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.text() };
}

function table(rows: Row[]): string {
  const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
  const lines = [['CALL ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'LAST CODE', 'CALLBACK', 'ACCEPTED', 'FINISHED']];
  for (const r of rows) {
    lines.push([r.id, r.functionName, r.status, String(r.attempts.length), String(r.lastStatusCode ?? '-'),
      r.callback.state === 'none' ? '-' : `${r.callback.state} (${r.callback.attempts})`, when(r.acceptedAt), when(r.finishedAt)]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function run(args: CallsArgs, method: string, path: string, render: (body: string) => string): Promise<void> {
  try {
    const res = await call(args, method, path);
    if (res.status >= 400) {
      process.stderr.write(`whippet calls: ${res.status} ${res.body.trim()}\n`);
      setExitCode(1);
      return;
    }
    process.stdout.write(`${args.json === true ? res.body.trim() : render(res.body)}\n`);
  } catch (err) {
    process.stderr.write(`whippet calls: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}\n`);
    setExitCode(1);
  }
}

const pretty = (body: string): string => JSON.stringify(JSON.parse(body), null, 2);
const idPath = (id: string | undefined): string => `/system/calls/${encodeURIComponent(id ?? '')}`;

export const command: CommandModule<object, CallsArgs> = {
  command: 'calls',
  describe: 'list, show, retry or cancel async calls (the /system/calls API)',
  builder: (y: Argv) => y
    .option('gateway', { type: 'string', describe: 'router URL', defaultDescription: 'env OPENFAAS_URL, else http://127.0.0.1:8080' })
    .option('user', { type: 'string', describe: 'Basic auth user', defaultDescription: 'env OPENFAAS_USER' })
    .option('password', { type: 'string', describe: 'Basic auth password', defaultDescription: 'env OPENFAAS_PASSWORD' })
    .option('json', { type: 'boolean', describe: 'print the raw JSON' })
    .command('list', 'calls, newest first', (c) => c
      .option('function', { type: 'string', describe: 'only this function' })
      .option('status', { type: 'string', describe: 'queued, running, succeeded, failed, expired, cancelled (comma-separated)' })
      .option('limit', { type: 'number', describe: '1..1000', default: 100 }), async (a) => {
      const q = new URLSearchParams();
      if (a.function !== undefined) q.set('function', a.function);
      if (a.status !== undefined) q.set('status', a.status);
      if (a.limit !== undefined) q.set('limit', String(a.limit));
      await run(a, 'GET', `/system/calls?${q}`, (body) => table(JSON.parse(body) as Row[]));
    })
    .command('show <id>', 'one call: attempts, result, callback', (c) => c.positional('id', { type: 'string' }),
      async (a) => run(a, 'GET', idPath(a.id), pretty))
    .command('retry <id>', 'send a failed or expired call round again', (c) => c.positional('id', { type: 'string' }),
      async (a) => run(a, 'POST', `${idPath(a.id)}/retry`, (body) => `queued again: ${(JSON.parse(body) as Row).id}`))
    .command('cancel <id>', 'cancel a queued call', (c) => c.positional('id', { type: 'string' }),
      async (a) => run(a, 'DELETE', idPath(a.id), (body) => `cancelled: ${(JSON.parse(body) as Row).id}`))
    .demandCommand(1, 'name an action: list, show, retry or cancel')
    .strict(),
  handler: () => { /* the sub-commands do the work */ },
};
