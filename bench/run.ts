// `npm run bench`: runs every benchmark section side by side on this machine and writes docs/benchmarks.md.
// `npm run bench -- router queue` runs only the named sections (written to docs/benchmarks-<names>.md).
// Sections run one after another (never in parallel) so they do not steal each other's two cores.

import { cpus, totalmem, hostname, loadavg, release } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { hostCostsLine } from './c-programs.js';

interface Section { name: string; run: () => Promise<string> }

const SECTIONS: Section[] = [
  { name: 'watchdog', run: async () => (await import('./watchdog.js')).benchWatchdog() },
  { name: 'spawn', run: async () => (await import('./spawn.js')).benchSpawn() },
  { name: 'router', run: async () => (await import('./router.js')).benchRouter() },
  { name: 'async', run: async () => (await import('./async.js')).benchAsync() },
  { name: 'queue', run: async () => (await import('./queue.js')).benchQueue() },
  { name: 'sqlite-lock', run: async () => (await import('./sqlite-lock.js')).benchSqliteLock() },
  { name: 'jetstream', run: async () => (await import('./jetstream.js')).benchJetStream() },
  { name: 'dashboard', run: async () => (await import('./dashboard.js')).benchDashboard() },
];

function machine(): string {
  const c = cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${hostname()}, ${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    `- node: ${process.version}; load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    hostCostsLine(),
    '- every ratio below compares runs made one after another in this same run (the machine is shared and noisy)',
  ].join('\n');
}

const only = process.argv.slice(2);
const parts = [`# whippet benchmarks\n\n${machine()}\n`];
let failed = false;
for (const s of SECTIONS) {
  if (only.length > 0 && !only.includes(s.name)) continue;
  process.stderr.write(`bench: ${s.name}...\n`);
  try {
    parts.push(await s.run());
  } catch (err) {
    failed = true;
    parts.push(`## ${s.name}\n\nFAILED: ${(err as Error).stack ?? String(err)}\n`);
  }
}
// A full run replaces docs/benchmarks.md; runs worth keeping beside it are moved to benchmarks-history.md by hand.
if (only.length === 0) parts.push('Earlier runs kept for comparison are in [benchmarks-history.md](benchmarks-history.md).\n');
mkdirSync('docs', { recursive: true });
const out = only.length > 0 ? `docs/benchmarks-${only.join('-')}.md` : 'docs/benchmarks.md';
writeFileSync(out, `${parts.join('\n')}\n`);
process.stderr.write(`bench: wrote ${out}\n`);
process.exitCode = failed ? 1 : 0;
