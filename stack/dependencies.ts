// The dependencies `whippet up` installs for a local run, the way the templates' Dockerfiles install
// them in the image (`whippet build` installs nothing: `docker build` does):
//
// - npm: in each folder of the up folder (the template's top, function/) whose package.json lists
//   `dependencies`: `npm ci` when a package-lock.json or npm-shrinkwrap.json is there, else
//   `npm install`, both --omit=dev. node_modules stays in the up folder between runs (up-folder.ts
//   carries it over); a node_modules the handler or template ships itself is used as it is.
// - pip: when requirements.txt (the template's or the function's) names a package:
//   `python3 -m pip install --target .whippet/deps/<name>/python`, which up puts first on the
//   watchdog's PYTHONPATH (before any PYTHONPATH the Dockerfile or the stack sets). Kept between runs.
//
// Each install runs again only when its dependency files changed (a sha256 stamp written after a
// success). Where it fails (no index reachable, no pip, a package that does not exist) up warns with
// the exact command to run and starts anyway. pip is bounded (--timeout 5 --retries 0): an index that
// does not answer costs pip's start and at most 5 s per connection, not its default 15 s × 5 retries.
// (With no retries pip reports an unreachable index as "no matching distribution", so up cannot tell
// it from a misspelt package and does not try to; each function's attempt is bounded instead.)

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { freshFolderFor, shown, stateDir, swapIn } from './build-folder.js';
import type { Stack, StackFunction } from './stack-file.js';
import type { TemplateChoice } from './templates.js';

type Variables = Readonly<Record<string, string | undefined>>;

/** What one `up` learned about installing: shared by its functions. */
export interface InstallContext {
  readonly stack: Stack;
  readonly env: Variables;
  readonly log: Logger;
}

const NPM_FLAGS = ['--omit=dev', '--no-audit', '--no-fund', '--no-update-notifier'];
const NPM_LOCKS = ['package-lock.json', 'npm-shrinkwrap.json'];
/** A stamp inside the node_modules up made: it travels with it, and marks it as up's (not shipped). */
const NPM_STAMP = '.whippet-installed';
/** pip's own bounds: one try, 5 s per connection, so an unreachable index costs seconds, not minutes. */
const PIP_BOUNDS = ['--timeout', '5', '--retries', '0', '--disable-pip-version-check', '--no-input'];
/** Whatever happens, an install that takes longer than this is stopped (and reported). */
const INSTALL_LIMIT_MS = 5 * 60_000;

/** Install the npm dependencies of a function's up folder (`folder`), each folder's only when changed. */
export async function installNpm(ctx: InstallContext, fn: StackFunction, template: TemplateChoice, folder: string): Promise<void> {
  for (const [sub, source] of [['.', template.dir], ['function', fn.handler]] as const) {
    const dir = join(folder, sub);
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest) || !listsDependencies(manifest)) continue;
    const modules = join(dir, 'node_modules');
    if (existsSync(modules) && !existsSync(join(modules, NPM_STAMP))) {
      ctx.log.info('dependencies shipped with the function', { function: fn.name, using: shown(join(source, 'node_modules')) });
      continue;
    }
    const command = ['npm', NPM_LOCKS.some((lock) => existsSync(join(dir, lock))) ? 'ci' : 'install', ...NPM_FLAGS];
    const hash = hashFiles(dir, ['package.json', ...NPM_LOCKS], command);
    if (readStamp(join(modules, NPM_STAMP)) === hash) {
      ctx.log.info('dependencies up to date', { function: fn.name, files: join(sub, 'package.json') });
      continue;
    }
    const ran = await run(ctx, fn.name, command, dir);
    if (ran.ok) {
      mkdirSync(modules, { recursive: true }); // npm makes none when every dependency is optional and skipped
      writeFileSync(join(modules, NPM_STAMP), hash);
      continue;
    }
    // The install up makes is remade at the next up; one in the source folder is used as it is.
    ctx.log.warn('dependencies not installed', {
      function: fn.name, reason: ran.reason, tookMs: ran.tookMs,
      run: `cd ${shown(source)} && ${command.join(' ')}`,
      then: 'up uses the node_modules it finds there; or fix the cause and run up again',
    });
  }
}

/**
 * Install the pip requirements of a function (the template's requirements.txt and the function's)
 * into .whippet/deps/<name>/python; returns that folder (for PYTHONPATH) when the function has
 * requirements or an earlier run installed some, even when this install failed.
 */
export async function installPip(ctx: InstallContext, fn: StackFunction, template: TemplateChoice): Promise<string | undefined> {
  const files = [join(template.dir, 'requirements.txt'), join(fn.handler, 'requirements.txt')].filter(namesPackages);
  const target = pipTarget(ctx.stack, fn);
  const stamp = `${target}.installed`;
  const existing = existsSync(target) ? target : undefined;
  if (files.length === 0) return existing;
  const forUser = ['python3', '-m', 'pip', 'install', '--upgrade', '--target', shown(target), ...files.flatMap((file) => ['-r', shown(file)])];
  const hash = hashFiles('/', files, ['pip', target]);
  if (readStamp(stamp) === hash && existing !== undefined) {
    ctx.log.info('dependencies up to date', { function: fn.name, files: files.map((file) => shown(file)).join(' ') });
    return existing;
  }
  // Into a fresh folder, swapped in on success: a failure leaves what was there (an earlier install,
  // or one the user made with the command below).
  const fresh = freshFolderFor(target);
  const ran = await run(ctx, fn.name, ['python3', '-m', 'pip', 'install', '--upgrade', '--target', fresh, ...PIP_BOUNDS, ...files.flatMap((file) => ['-r', file])], ctx.stack.dir, forUser);
  if (ran.ok) {
    swapIn(fresh, target);
    writeFileSync(stamp, hash);
  } else {
    rmSync(fresh, { recursive: true, force: true });
  }
  if (!ran.ok) {
    ctx.log.warn('dependencies not installed', {
      function: fn.name, reason: ran.reason, tookMs: ran.tookMs, run: forUser.join(' '),
      then: `${shown(target)} is first on the function's PYTHONPATH, so what the command installs there is used from the next call on; up tries again at its next start and a failure keeps what is there`,
    });
  }
  return target;
}

/** Move the node_modules up installed in the last run's folder (`old`) into the new one, unless the new files bring their own. */
export function carryOverInstalls(old: string, fresh: string): void {
  for (const sub of ['.', 'function']) {
    const from = join(old, sub, 'node_modules');
    const to = join(fresh, sub, 'node_modules');
    if (existsSync(join(from, NPM_STAMP)) && !existsSync(to) && existsSync(join(fresh, sub))) renameSync(from, to);
  }
}

/** Where a function's pip packages go: kept between runs, outside the up folder that is made afresh. */
export function pipTarget(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'deps', fn.name, 'python');
}

function listsDependencies(manifest: string): boolean {
  try {
    const deps = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: unknown }).dependencies;
    return typeof deps === 'object' && deps !== null && Object.keys(deps).length > 0;
  } catch {
    return true; // npm says what is wrong with it better than we would
  }
}

/** A requirements.txt that names something (not only blanks and comments). */
function namesPackages(file: string): boolean {
  return existsSync(file) && readFileSync(file, 'utf8').split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** sha256 of the command and each file (name and content; a missing one counts as missing). */
function hashFiles(dir: string, files: readonly string[], command: readonly string[]): string {
  const hash = createHash('sha256').update(command.join('\0'));
  for (const file of files) {
    const path = join(dir, file);
    hash.update(`\0${file}\0`).update(existsSync(path) ? readFileSync(path) : '<missing>');
  }
  return hash.digest('hex');
}

function readStamp(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

interface RunResult { readonly ok: boolean; readonly reason: string; readonly tookMs: number; readonly output: string }

/** Output kept for the reason of a failure. */
const OUTPUT_KEPT = 64 * 1024;

/** Run one install command; never throws (a missing npm or python3 is a failed run with its reason). */
function run(ctx: InstallContext, name: string, command: readonly string[], cwd: string, shownCommand: readonly string[] = command): Promise<RunResult> {
  ctx.log.info('installing dependencies', { function: name, run: shownCommand.join(' '), in: shown(cwd) });
  const startedAt = Date.now();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) env[key] = value;
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT); };
    const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => { output += `\nstopped after ${INSTALL_LIMIT_MS / 1000} s`; child.kill('SIGKILL'); }, INSTALL_LIMIT_MS);
    const done = (ok: boolean, reason: string): void => {
      clearTimeout(timer);
      const tookMs = Date.now() - startedAt;
      if (ok) ctx.log.info('dependencies installed', { function: name, tookMs });
      resolve({ ok, reason, tookMs, output });
    };
    child.once('error', (err) => done(false, `${command[0]} could not be started (${err.message})`));
    child.once('close', (code, signal) => done(code === 0, code === 0 ? '' : lastError(output) ?? `${command[0]} exited with ${code ?? signal}`));
  });
}

/** The line of a failed install's output that says why: the last error line, else the last line. */
function lastError(output: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return [...lines].reverse().find((line) => /^(ERROR|npm (ERR|error))\b|Error\b|No module named/.test(line)) ?? lines.at(-1);
}
