#!/usr/bin/env node
// `fwatchdog` = `whippet watchdog`, so OpenFaaS Dockerfiles with CMD ["fwatchdog"] keep working. CommonJS, as
// main.cts and for the same reason: the function image's start reaches the watchdog's start bundle without the
// ES module loader. `node dist/cli/fwatchdog.js` is the same command (fwatchdog.ts).

import { startBundled } from './start-bundle.cjs';

const args = ['watchdog', ...process.argv.slice(2)];
void (startBundled(args, process.env) ?? import('./run.js').then(({ runCli }) => runCli(args, 'fwatchdog'))).then((code) => {
  process.exitCode = code;
});
