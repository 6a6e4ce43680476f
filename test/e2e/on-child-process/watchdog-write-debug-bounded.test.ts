// watchdog-write-debug-bounded, run again on the child_process spawn path: the whole watchdog suite runs on both paths.
process.env.WHIPPET_SPAWN_BACKEND = 'child_process';
await import('../watchdog-write-debug-bounded.test.js');
