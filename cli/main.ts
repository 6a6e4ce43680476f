#!/usr/bin/env node
// The `whippet` CLI. Each command's module is imported only when that command runs, so
// `whippet watchdog` (the entrypoint of every function image) loads nothing it does not use.

import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2));
