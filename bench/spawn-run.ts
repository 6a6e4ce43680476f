// Runs the spawn benchmarks alone and prints their Markdown: node dist/bench/spawn-run.js
import { benchSpawn } from './spawn.js';

process.stdout.write(await benchSpawn());
