// A yargs-free start for a command (yargs costs ~200 ms and ~13 MB to import): the flags it accepts,
// declared from its option table for node:util's parseArgs, folded the way yargs would fold them, and the
// run of a command whose flags parse that way. Also in the start bundles (cli/start-bundle.cts).

import { parseArgs } from 'node:util';
import type { CommandModule } from 'yargs';
import { flagName, type OptionTable } from '../common/options.js';
import { exitCodeFor } from './errors.js';

/** What each command module exports: its yargs declaration, the work, and maybe a yargs-free start. */
export interface WhippetCommand {
  /** Name, description and options; the handler is run() (cli/run.ts wraps it). */
  readonly command: Omit<CommandModule<object, any>, 'handler'>;
  /** Do the command's work; resolves with the exit code. Throws UsageError for wrong arguments yargs cannot see. */
  run(argv: Record<string, any>): Promise<number> | number;
  /** How errors are prefixed: `whippet <name>` unless the command says otherwise. */
  readonly errorPrefix?: string;
  readonly fast?: FastPath;
  /** Text for the end of the usage, worked out only when the usage is shown (the command's builder stays synchronous). */
  usageFooter?(): Promise<string>;
}

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

/**
 * Run `command` with `args` (after its name) parsed by node:util, or undefined when it has no fast path or the
 * flags do not parse that way: yargs then reports the problem with the usage text (cli/run.ts). --help is the
 * caller's to check.
 */
export function runFast(command: WhippetCommand, name: string, args: readonly string[]): Promise<number> | undefined {
  const fast = command.fast;
  if (fast === undefined) return undefined;
  let flags: Record<string, unknown>;
  try {
    flags = parseArgs({ args: [...args], options: fast.options, strict: true, allowPositionals: false }).values;
  } catch {
    return undefined;
  }
  // No usage to show on this path: a command's UsageError needs yargs' text, and the fast commands throw none.
  return runCommand(command, name, fast.flags?.(flags) ?? flags, () => {});
}

/** Run a command; any error it throws becomes its exit code through the one mapping. */
export async function runCommand(command: WhippetCommand, name: string, argv: Record<string, unknown>, showUsage: () => void): Promise<number> {
  try {
    return await command.run(argv);
  } catch (err) {
    return exitCodeFor(err, {
      prefix: command.errorPrefix ?? `whippet ${name}`, showUsage, write: (text) => { process.stderr.write(text); },
    });
  }
}
