// The folder `whippet up` runs a function from: .whippet/up/<name>/, the same files `whippet build`
// puts in .whippet/build/<name>/ (template + handler in function/). Only the up that holds the stack's
// lock (up-lock.ts) writes it, and only before its watchdogs start, so no other command can pull it out
// from under them; `whippet build` writes its own folder and may run at any time. Unlike build's, it
// gets the function's dependencies installed (dependencies.ts): a node_modules up made is carried over
// from the last run's folder, so an unchanged package.json costs nothing.

import { join } from 'node:path';
import { copyFunction, readDockerfileEnv, removeLeftovers, replaceFolder, stateDir, templateOf, type BuiltFunction } from './build-folder.js';
import { carryOverInstalls, installNpm, installPip, pipTarget, type InstallContext } from './dependencies.js';
import type { Stack, StackFunction } from './stack-file.js';

/** The folder `up` runs `fn` from. */
export function upFolder(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'up', fn.name);
}

/** Make the function's up folder afresh (under another name, then swapped in) and install its dependencies. */
export async function prepareUpFolder(ctx: InstallContext, fn: StackFunction): Promise<BuiltFunction> {
  const { stack } = ctx;
  const template = templateOf(stack, fn);
  const folder = upFolder(stack, fn);
  removeLeftovers(folder);
  removeLeftovers(pipTarget(stack, fn));
  replaceFolder(folder, (fresh, old) => {
    copyFunction(stack, fn, template, fresh);
    if (old !== undefined) carryOverInstalls(old, fresh);
  });
  await installNpm(ctx, fn, template, folder);
  const pythonPath = await installPip(ctx, fn, template);
  const dockerEnv = readDockerfileEnv(folder, ctx.env);
  return pythonPath === undefined ? { fn, folder, template, dockerEnv } : { fn, folder, template, dockerEnv, pythonPath };
}
