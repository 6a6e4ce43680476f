#!/usr/bin/env node
// The `whippet` CLI. Each command's module is imported only when that command runs, so
// `whippet watchdog` (the entrypoint of every function image) loads nothing it does not use; it starts from
// its start bundle when there is one (cli/start-bundle.ts), and cli/run.ts is not loaded then.

import { startBundled } from './start-bundle.js';

const args = process.argv.slice(2);
process.exitCode = await (startBundled(args, process.env) ?? import('./run.js').then(({ runCli }) => runCli(args)));
