import { spawn } from 'node:child_process';
import { createRouter } from '../dist/router/server.js';
import { createStaticResolver } from '../dist/router/resolver.js';
import { createLogger } from '../dist/watchdog/log.js';
import { createServer } from 'node:http';
function start(cmd, extra) {
  const c = spawn(process.execPath, ['/work/main/dist/cli/main.js', cmd], { env: { PATH: process.env.PATH, log_format: 'json', port: '0', ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((res) => { let s = ''; c.stderr.on('data', (d) => { s += d; const m = /"msg":"listening".*?"port":(\d+)/.exec(s); if (m) res({ c, port: +m[1] }); }); });
}
const wd = await start('watchdog', { fprocess: 'cat', mode: 'streaming', exec_timeout: '0', metrics_port: '0' });
const r = createRouter({ readTimeoutMs: 120000, writeTimeoutMs: 120000, upstreamTimeoutMs: 120000, basicAuth: false, secretMountPath: '', functionNamespace: '' },
  { resolver: createStaticResolver([['echo', new URL(`http://127.0.0.1:${wd.port}`)]]), log: createLogger() });
const { port } = await r.listen(0, '127.0.0.1');
const client = spawn(process.execPath, ['-e', `
const http=require('http');let sent=0;const T=200*1024*1024;const b=Buffer.alloc(65536,7);
const req=http.request({port:${port},host:'127.0.0.1',method:'POST',path:'/function/echo'},res=>{let g=0;res.on('data',c=>{g+=c.length;const h=require('crypto').createHash('sha256');for(let i=0;i<4;i++)h.update(c)});res.on('end',()=>{console.log('got',g);process.exit(0)})});
function w(){while(sent<T){sent+=b.length;if(!req.write(b)){req.once('drain',w);return}}req.end()}w();`], { stdio: 'inherit', env: { PATH: process.env.PATH } });
const mb = (n) => (n / 1048576).toFixed(0);
const iv = setInterval(() => { const m = process.memoryUsage(); console.log(`rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}`); }, 60);
client.on('exit', async () => { clearInterval(iv); await r.close(); wd.c.kill(); });
