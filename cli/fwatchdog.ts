#!/usr/bin/env node
// `fwatchdog` = `whippet watchdog`, so OpenFaaS Dockerfiles with CMD ["fwatchdog"] keep working.

import { runCli } from './run.js';

process.exitCode = await runCli(['watchdog', ...process.argv.slice(2)], 'fwatchdog');
