#!/usr/bin/env node
// The `whippet` command (package.json "bin"; the image links it too). CommonJS, so that Node starts it without
// its ES module loader: `whippet watchdog|router` run from their start bundle (start-bundle.cts) with no ES module
// on the way, ~20 ms and ~0.5 MB less than entering through one (docs/performance.md). Every other command, and
// --help, go on to the CLI (run.ts), imported only then. `node dist/cli/main.js` is the same command (main.ts).

import { runEntry } from './start-bundle.cjs';

runEntry(process.argv.slice(2));
