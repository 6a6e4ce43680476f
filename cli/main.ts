#!/usr/bin/env node
// `node dist/cli/main.js ARGS`: the `whippet` command (main.cts) entered through an ES module, for scripts and
// docs that name this file. The `whippet` command itself runs main.cjs, which starts faster.

import './main.cjs';
