// Both spawn paths (the native addon, child_process) must behave identically: one table, same checks.

import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnedProcess } from '../../watchdog/spawn/types.js';
import { loadNativeBackend } from '../../watchdog/spawn/native.js';
import { groupMembers, procStat } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';
import { baseEnv, collect, expectedSpawnMethod, loadBackends, methodUnderTest } from '../helpers/spawn-backends.js';

const backends = await loadBackends(true);

for (const { name, label, backend, error } of backends) {
  t.test(label, async (t) => {
    if (backend === undefined) {
      t.fail(`${label} backend did not load: ${error}`);
      return;
    }
    t.equal(backend.name, name);
    if (name === 'native') {
      const method = expectedSpawnMethod(methodUnderTest);
      t.equal(backend.method, method, `children are made with ${method}`);
    }
    const running = new Set<SpawnedProcess>();
    t.teardown(() => running.forEach((p) => p.killGroup('SIGKILL')));
    const spawn = async (file: string, args: string[], env: Record<string, string> = baseEnv, cwd?: string) => {
      const p = await backend.spawn({ file, args, env, cwd });
      running.add(p);
      void p.exited.then(() => running.delete(p));
      return p;
    };
    // Everything a child printed and how it ended.
    const run = async (p: SpawnedProcess, input?: string | Buffer) => {
      p.stdin.end(input);
      const [stdout, stderr, status] = await Promise.all([collect(p.stdout), collect(p.stderr), p.exited]);
      return { stdout: stdout.toString(), stderr: stderr.toString(), ...status };
    };

    t.test('the child gets exactly the given environment', async (t) => {
      const env = { ...baseEnv, A: '1', SPACED: 'x y  z', EMPTY: '', 'UNI_é': 'ü=ö', LINES: 'one\ntwo' };
      const r = await run(await spawn('env', ['-0'], env)); // NUL-separated: values may hold newlines
      // tap's processinfo plugin patches child_process to inject its own variables; they are not the backend's.
      const injected = name === 'child_process' ? /^(_TAPJS_PROCESSINFO_\w*|NODE_OPTIONS)=/ : /^$/;
      const got = r.stdout.split('\0').filter((l) => l !== '' && !injected.test(l)).sort();
      t.same(got, Object.entries(env).map(([k, v]) => `${k}=${v}`).sort());
      t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null });
    });

    t.test('the program is looked up on the child PATH', async (t) => {
      const dir = t.testdir({ 'hello-whippet': '#!/bin/sh\necho found "$@"\n' });
      chmodSync(join(dir, 'hello-whippet'), 0o755);
      const r = await run(await spawn('hello-whippet', ['a b', 'c'], { PATH: `/nonexistent:${dir}:/bin` }));
      t.equal(r.stdout, 'found a b c\n');
    });

    t.test('cwd sets the working directory', async (t) => {
      const dir = t.testdir();
      const r = await run(await spawn('pwd', [], baseEnv, dir));
      t.equal(r.stdout.trim(), realpathSync(dir));
    });

    t.test('stdin, stdout and stderr stream separately; exit code is reported', async (t) => {
      const r = await run(await spawn('sh', ['-c', 'cat; echo oops >&2; exit 3']), 'hello world, this is a small body');
      t.same(r, { stdout: 'hello world, this is a small body', stderr: 'oops\n', code: 3, signal: null });
    });

    t.test('50 MB through cat with backpressure, byte for byte', async (t) => {
      const p = await spawn('cat', []);
      const chunk = randomBytes(1 << 20);
      const sent = createHash('sha256');
      const received = createHash('sha256');
      let receivedBytes = 0;
      let pausedOnce = false;
      p.stdout.on('data', (d: Buffer) => { received.update(d); receivedBytes += d.length; });
      const outDone = new Promise((r) => p.stdout.on('end', r));
      for (let i = 0; i < 50; i++) {
        sent.update(chunk);
        if (!p.stdin.write(chunk)) {
          pausedOnce = true;
          await new Promise((r) => p.stdin.once('drain', r));
        }
      }
      p.stdin.end();
      await outDone;
      t.ok(pausedOnce, 'write() returned false: backpressure reached the writer');
      t.equal(receivedBytes, 50 << 20);
      t.equal(received.digest('hex'), sent.digest('hex'));
      t.same(await p.exited, { code: 0, signal: null });
    });

    t.test('a slow reader stalls the writer instead of buffering everything', async (t) => {
      const p = await spawn('cat', []);
      p.stdout.pause();
      const chunk = Buffer.alloc(64 << 10, 'x');
      let written = 0;
      while (p.stdin.write(chunk)) written += chunk.length;
      t.ok(written < 8 << 20, `writer stopped after ${written} bytes (pipe + stream buffers), not unbounded`);
      p.stdout.resume();
      p.stdin.end();
      t.same(await p.exited, { code: 0, signal: null }, 'cat finishes once the reader resumes');
    });

    t.test('a signal ends the child and is reported by name', async (t) => {
      const p = await spawn('sleep', ['30']);
      p.killGroup('SIGTERM');
      t.same(await p.exited, { code: null, signal: 'SIGTERM' });
    });

    t.test('signal mask and ignored signals are reset for the child', async (t) => {
      // Node ignores SIGPIPE; an ignored disposition survives exec unless the spawn path resets it.
      const r = await run(await spawn('grep', ['-E', '^Sig(Blk|Ign)', '/proc/self/status']));
      t.equal(r.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
    });

    t.test('a writer whose reader is gone ends instead of blocking', async (t) => {
      // native uses pipes (SIGPIPE, like the Go watchdogs); child_process uses socketpairs (ECONNRESET, exit 1).
      const p = await spawn('yes', []);
      p.stdin.end();
      p.stdout.once('data', () => p.stdout.destroy());
      const status = await p.exited;
      t.ok(status.signal === 'SIGPIPE' || status.code === 1, `yes ended: ${JSON.stringify(status)}`);
    });

    t.test('the child leads its own process group; killGroup reaches grandchildren', async (t) => {
      const p = await spawn('sh', ['-c', 'sleep 30 & echo $!; wait']);
      p.stdin.end();
      const line = await new Promise<string>((r) => p.stdout.once('data', (d: Buffer) => r(d.toString())));
      const grandchild = Number(line.trim());
      t.equal(procStat(p.pid)?.[2], String(p.pid), 'pgid of the child is its pid');
      t.equal(procStat(grandchild)?.[2], String(p.pid), 'the grandchild is in the same group');
      t.same(groupMembers(p.pid).sort(), [p.pid, grandchild].sort());
      p.killGroup('SIGKILL');
      t.same(await p.exited, { code: null, signal: 'SIGKILL' });
      t.ok(await holdsWithin(() => groupMembers(p.pid).length === 0, 5000, 10), 'no member of the group is left');
      t.doesNotThrow(() => p.killGroup('SIGKILL'), 'killGroup on a vanished group is a no-op');
    });

    t.test('an unknown signal name is a programming error, not a silent no-op', async (t) => {
      const p = await spawn('sleep', ['30']);
      t.throws(() => p.killGroup('SIGNOPE' as NodeJS.Signals), { code: 'ERR_UNKNOWN_SIGNAL' });
      p.killGroup('SIGKILL');
      t.same(await p.exited, { code: null, signal: 'SIGKILL' });
    });

    t.test('a null byte in an argument or the environment is refused', async (t) => {
      await t.rejects(async () => spawn('echo', ['a\0b']), { code: 'ERR_INVALID_ARG_VALUE' });
      await t.rejects(async () => spawn('env', [], { ...baseEnv, BAD: 'x\0y' }), { code: 'ERR_INVALID_ARG_VALUE' });
    });

    t.test('a missing program rejects with ENOENT', async (t) => {
      await t.rejects(spawn('whippet-no-such-program', []), { code: 'ENOENT' });
      await t.rejects(spawn('/nonexistent/bin/x', []), { code: 'ENOENT' });
    });

    t.test('a file that is not executable rejects with EACCES', async (t) => {
      const dir = t.testdir({ 'not-exec': 'echo hi\n' });
      await t.rejects(spawn(join(dir, 'not-exec'), []), { code: 'EACCES' });
    });

    t.test('a missing cwd rejects with ENOENT', async (t) => {
      await t.rejects(spawn('pwd', [], baseEnv, join(t.testdir(), 'missing')), { code: 'ENOENT' });
    });

    t.test('destroying stdin gives the child EOF', async (t) => {
      const p = await spawn('cat', []);
      p.stdin.write('partial');
      const out = collect(p.stdout);
      p.stdin.destroy();
      t.equal((await out).toString(), 'partial');
      t.same(await p.exited, { code: 0, signal: null });
    });

    t.test('stdin is destroyed once the child has exited, so writers do not hang', async (t) => {
      const p = await spawn('true', []);
      await p.exited;
      t.equal(p.stdin.destroyed, true);
      const err = await new Promise<Error | null | undefined>((resolve) => p.stdin.write('late', resolve));
      t.match(err, { code: 'ERR_STREAM_DESTROYED' });
      p.stdout.destroy();
      p.stderr.destroy();
    });

    t.test('32 children at once each get their own pipes', async (t) => {
      const ps = await Promise.all(Array.from({ length: 32 }, (_, i) => spawn('sh', ['-c', `echo ${i}`])));
      const outs = await Promise.all(ps.map((p) => run(p)));
      t.same(outs.map((o) => o.stdout), Array.from({ length: 32 }, (_, i) => `${i}\n`));
    });
  });
}

t.test('loadNativeBackend rejects with the reason when the addon cannot be loaded', async (t) => {
  const dir = t.testdir({ 'broken.node': 'not an ELF file' });
  await t.rejects(loadNativeBackend({ addonPath: join(dir, 'missing.node') }), { message: /failed to load/ });
  await t.rejects(loadNativeBackend({ addonPath: join(dir, 'broken.node') }), { message: /broken\.node failed to load/ });
});
