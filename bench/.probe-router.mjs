import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { readFileSync } from 'node:fs';
const env = { PATH: process.env.PATH, log_format: 'json', port: '0', ...(process.env.MA ? { MALLOC_ARENA_MAX: process.env.MA } : {}) };
function start(cmd, extra) {
  const c = spawn(process.execPath, [...(process.env.NODEFLAGS ? process.env.NODEFLAGS.split(' ') : []), '/work/main/dist/cli/main.js', cmd], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((res) => { let s = ''; c.stderr.on('data', (d) => { s += d; const m = /"msg":"listening".*?"port":(\d+)/.exec(s); if (m) res({ c, port: +m[1] }); }); });
}
const wd = await start('watchdog', { fprocess: 'cat', mode: 'streaming', exec_timeout: '0', metrics_port: '0' });
const rt = await start('router', { functions: `echo=http://127.0.0.1:${wd.port}`, upstream_timeout: '2m', write_timeout: '2m', read_timeout: '2m' });
const rss = () => /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${rt.c.pid}/status`, 'utf8'))[1] / 1024 | 0;
console.log('idle', rss());
const iv = setInterval(() => process.stdout.write(rss() + ' '), 500);
let sent = 0; const TOTAL = 200 * 1024 * 1024; const block = Buffer.alloc(65536, 7);
const body = new Readable({ read() { if (sent >= TOTAL) return this.push(null); sent += block.length; this.push(Buffer.from(block)); } });
const res = await request(`http://127.0.0.1:${rt.port}/function/echo`, { method: 'POST', body });
let got = 0; for await (const c of res.body) got += c.length;
clearInterval(iv);
console.log('\ngot', got, 'hwm', /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${rt.c.pid}/status`, 'utf8'))[1] / 1024 | 0);
rt.c.kill(); wd.c.kill();
