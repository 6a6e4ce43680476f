// Runs the watchdog benchmark alone and prints its Markdown section: node dist/bench/watchdog-run.js
import { benchWatchdog } from './watchdog.js';

process.stdout.write(await benchWatchdog());
