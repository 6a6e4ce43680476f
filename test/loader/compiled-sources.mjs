// Test processes load the project's own modules as `npm run build` compiled them (dist/): the very files
// the processes a test starts run. No test process compiles the sources again (importing the router, the
// worker and the watchdog took 4.6 s through tap's TypeScript loader on a 2-core host, 0.09 s this
// way), and each source file is covered in one compiled form in every process. The test files and their
// helpers (test/**), bench/ and ui/ (not compiled file by file) go through tsx.
// package.json "tap"."node-arg" loads tsx first and this file after it, so this resolve hook runs first.
import { register } from 'node:module';

register('./compiled-sources-hooks.mjs', import.meta.url);
