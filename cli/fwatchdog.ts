#!/usr/bin/env node
// `node dist/cli/fwatchdog.js ARGS`: the `fwatchdog` command (fwatchdog.cts) entered through an ES module. The
// `fwatchdog` command itself runs fwatchdog.cjs, which starts faster.

import './fwatchdog.cjs';
