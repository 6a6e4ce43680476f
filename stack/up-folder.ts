// The folder `whippet up` runs a function from: .whippet/up/<name>/, the same files `whippet build`
// puts in .whippet/build/<name>/ (template + handler in function/). Only the up that holds the stack's
// lock (up-lock.ts) writes it, and only before its watchdogs start, so no other command can pull it out
// from under them; `whippet build` writes its own folder and may run at any time.

import { join } from 'node:path';
import { copyFunction, readDockerfileEnv, replaceFolder, stateDir, templateOf, type BuiltFunction } from './build-folder.js';
import type { Stack, StackFunction } from './stack-file.js';

type Variables = Readonly<Record<string, string | undefined>>;

/** The folder `up` runs `fn` from. */
export function upFolder(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'up', fn.name);
}

/** Make the function's up folder afresh (under another name, then swapped in). */
export function prepareUpFolder(stack: Stack, fn: StackFunction, baseEnv: Variables): BuiltFunction {
  const template = templateOf(stack, fn);
  const folder = upFolder(stack, fn);
  replaceFolder(folder, (fresh) => copyFunction(stack, fn, template, fresh));
  return { fn, folder, template, dockerEnv: readDockerfileEnv(folder, baseEnv) };
}
