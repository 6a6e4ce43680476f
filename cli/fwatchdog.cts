#!/usr/bin/env node
// `fwatchdog` = `whippet watchdog`, so OpenFaaS Dockerfiles with CMD ["fwatchdog"] keep working. CommonJS, as
// main.cts and for the same reason: the function image's start reaches the watchdog's start bundle without the
// ES module loader. `node dist/cli/fwatchdog.js` is the same command (fwatchdog.ts).

import { runEntry } from './start-bundle.cjs';

runEntry(['watchdog', ...process.argv.slice(2)], 'fwatchdog');
