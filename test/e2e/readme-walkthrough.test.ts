// The README walkthrough (README.md) run for real against this checkout: every ```console step, in
// order, in a temp folder holding examples/ as committed; each output must match what the README shows.

import t from 'tap';
import { runWalkthrough } from '../helpers/walkthrough.js';

const ROOT = new URL('../../', import.meta.url).pathname;

t.test('every README console step gives the output the README shows', { timeout: 240_000 }, (t) => runWalkthrough(t, ROOT));
