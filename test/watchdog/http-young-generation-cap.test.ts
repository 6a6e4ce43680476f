// http mode stops V8 growing the young generation once a semi-space reaches SEMI_SPACE_CAP_MB
// (common/young-generation.ts): its RSS then stays level under load instead of climbing by the last doubling.
// In fresh processes that allocate with survivors until V8 has grown the new space: without the cap it reaches
// 2 x 16 MB; with it, it stops at 2 x the cap; with a semi-space flag of the user's own, nothing is changed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { SEMI_SPACE_CAP_MB } from '../../common/young-generation.js';

const MODULE = fileURLToPath(new URL('../../dist/common/young-generation.js', import.meta.url));

const probe = (call: string): string => `
const { capYoungGeneration } = await import(${JSON.stringify(MODULE)});
const v8 = await import('node:v8');
${call}
let keep = [];
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
let largest = 0;
for (let round = 0; round < 300; round++) {
  for (let i = 0; i < 20000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 4000) keep = []; }
  largest = Math.max(largest, newSpace());
  await new Promise((resolve) => setTimeout(resolve, 2));
}
console.log(JSON.stringify({ largestMb: largest / 1048576 }));
`;

async function largestNewSpaceMb(call: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe(call)], { timeout: 120_000 });
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { largestMb: number }).largestMb;
}

t.test('the young generation stops at the cap', async (t) => {
  const free = await largestNewSpaceMb('');
  t.ok(free > 2 * SEMI_SPACE_CAP_MB, `without the cap V8 grows the new space past 2 x ${SEMI_SPACE_CAP_MB} MB (${free} MB): the probe allocates enough`);
  const capped = await largestNewSpaceMb("capYoungGeneration({ nodeOptions: '', execArgv: [], everyMs: 1 });");
  t.ok(capped <= 2 * SEMI_SPACE_CAP_MB, `with the cap it stays at most 2 x ${SEMI_SPACE_CAP_MB} MB (${capped} MB)`);
  const own = await largestNewSpaceMb("capYoungGeneration({ nodeOptions: '--max-semi-space-size=16', execArgv: [], everyMs: 1 });");
  t.ok(own > 2 * SEMI_SPACE_CAP_MB, `a semi-space flag of the user's own is left to work (${own} MB)`);
});
