// native/ is layered: each file includes only the headers of the layers below it, so no two files call into
// each other (whippet_addon.c's header comment names the layers). A new include that goes up fails here.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NATIVE = fileURLToPath(new URL('../../native/', import.meta.url));

/** Bottom first; a file may include the headers of its own layer and of every layer before it. */
const LAYERS = [
  ['whippet_clone'],
  ['whippet_spawn'],
  ['whippet_napi'],
  ['whippet_streams', 'whippet_run'],
  ['whippet_addon'],
];
const layerOf = (name: string): number => LAYERS.findIndex((layer) => layer.includes(name));

const sources = readdirSync(NATIVE).filter((f) => /\.[ch]$/.test(f));

t.test('every C file belongs to a layer', async (t) => {
  for (const file of sources) t.not(layerOf(file.replace(/\.[ch]$/, '')), -1, `${file} is in LAYERS`);
});

t.test('includes go down, never up or sideways', async (t) => {
  for (const file of sources) {
    const own = file.replace(/\.[ch]$/, '');
    const includes = [...readFileSync(NATIVE + file, 'utf8').matchAll(/^#include "([^"]+)\.h"/gm)].map((m) => m[1]!);
    for (const header of includes) {
      const ok = header === own || layerOf(header) < layerOf(own);
      t.ok(ok, `${file} may include ${header}.h`);
    }
  }
});

t.test('the plain C layers know nothing of Node', async (t) => {
  for (const file of sources.filter((f) => layerOf(f.replace(/\.[ch]$/, '')) <= 1)) {
    t.notMatch(readFileSync(NATIVE + file, 'utf8'), /node_api\.h|<uv\.h>|napi_/, `${file} uses no N-API or libuv`);
  }
});
