// A .ts fixture run as its own process must compile the project's modules exactly as the test process does:
// tap merges their coverage by URL, and two compiled forms under one URL made the coverage report depend on
// the order of tap's coverage files (see CONTRIBUTING.md, Coverage). fixtureArgv reuses this process's loader.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as busy from '../../router/queue/sqlite/busy.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'print-compiled.ts');

t.test('a fixture process started with fixtureArgv compiles a source module as this test process does', async (t) => {
  const here = Object.values(busy).map(String).join('\n');
  const there = execFileSync(process.execPath, fixtureArgv(fixture), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.ok(here.length > 0, 'the module exports functions');
  t.equal(there, here, 'the same compiled text');
});
