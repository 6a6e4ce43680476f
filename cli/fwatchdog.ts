#!/usr/bin/env node
// `fwatchdog` = `whippet watchdog`, so OpenFaaS Dockerfiles with CMD ["fwatchdog"] keep working.

import { startBundled } from './start-bundle.js';

const args = ['watchdog', ...process.argv.slice(2)];
process.exitCode = await (startBundled(args, process.env) ?? import('./run.js').then(({ runCli }) => runCli(args, 'fwatchdog')));
