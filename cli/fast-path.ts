// A yargs-free start for a command (yargs costs ~200 ms and ~13 MB to import): the flags it accepts,
// declared from its option table for node:util's parseArgs, folded the way yargs would fold them.

import type { parseArgs } from 'node:util';
import { flagName, type OptionTable } from '../common/options.js';

export interface FastPath {
  readonly options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  /** Fold or adjust the parsed flags before the command's run() sees them. */
  flags?(values: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/** parseArgs declarations for an option table: every setting is a string flag, aliases included. */
export function fastOptions(table: OptionTable, booleans: readonly string[] = []): FastPath['options'] {
  const out: NonNullable<FastPath['options']> = {};
  for (const spec of Object.values(table)) {
    for (const env of spec.env) out[flagName(env)] = { type: 'string', multiple: true };
  }
  for (const b of booleans) out[b] = { type: 'boolean' };
  return out;
}

/** Fold alias flags onto the canonical flag name, as yargs does, so loadOptions sees one key. */
export function foldAliases(table: OptionTable, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const spec of Object.values(table)) {
    const [canonical, ...aliases] = spec.env.map(flagName);
    for (const a of aliases) {
      if (out[a] !== undefined && out[canonical!] === undefined) out[canonical!] = out[a];
      delete out[a];
    }
  }
  return out;
}

