// One table per component drives env names, flags, defaults, parsing and --help (see the settings tables in docs/).
// Precedence: flag > env > default. Every problem is collected and reported at once.

import { parseDuration } from './duration.js';

/** One setting: its env names (first is canonical, the rest are aliases), help, default and parser. */
export interface OptionSpec<T> {
  readonly env: readonly string[];
  readonly describe: string;
  /** Raw text, parsed like user input so defaults are validated too. */
  readonly default?: string;
  /** Shown in --help when the default is computed from other settings. */
  readonly defaultDescription?: string;
  /** True when a bare `--flag` means "true". */
  readonly boolean?: boolean;
  /** Throws an Error whose message states the rule and the value. */
  readonly parse: (raw: string) => T;
}

export type OptionTable = Readonly<Record<string, OptionSpec<unknown>>>;

/** The parsed, frozen result: settings without a default may be undefined. */
export type Options<T extends OptionTable> = {
  readonly [K in keyof T]: T[K] extends { default: string }
    ? ReturnType<T[K]['parse']>
    : ReturnType<T[K]['parse']> | undefined;
};

/** Raised when configuration is invalid; `problems` holds one line per bad setting. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The flag for an env name: `exec_timeout` → `exec-timeout`. */
export function flagName(env: string): string {
  return env.replace(/_/g, '-');
}

/** yargs option declarations for a table: every value is a string, defaults shown but not applied. */
export function yargsOptions(table: OptionTable): Record<string, object> {
  const out: Record<string, object> = {};
  for (const spec of Object.values(table)) {
    const [canonical, ...aliases] = spec.env;
    const envText = `env: ${spec.env.join(', ')}`;
    out[flagName(canonical!)] = {
      type: 'string',
      describe: `${spec.describe} [${envText}]`,
      alias: aliases.map(flagName),
      defaultDescription: spec.defaultDescription ?? spec.default ?? 'none',
      requiresArg: !spec.boolean,
    };
  }
  return out;
}

/** Resolve a table against parsed flags and an environment; throws ConfigError listing every problem. */
export function loadOptions<T extends OptionTable>(
  table: T,
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  check?: (resolved: Options<T>) => string[],
): Options<T> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const canonical = spec.env[0]!;
    const flag = flagName(canonical);
    let raw: string | undefined;
    let from = `--${flag}`;
    const flagValue = flags[flag];
    if (flagValue !== undefined) {
      const last = Array.isArray(flagValue) ? flagValue[flagValue.length - 1] : flagValue;
      raw = String(last);
      if (raw === '' && spec.boolean) raw = 'true';
    } else {
      const name = spec.env.find((e) => env[e] !== undefined);
      if (name !== undefined) { raw = env[name]; from = name; }
    }
    const label = `${canonical} (${from === `--${flag}` ? from : `env ${from}`})`;
    if (raw === undefined) {
      if (spec.default === undefined) { out[key] = undefined; continue; }
      raw = spec.default;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0 && check) problems.push(...check(out as Options<T>));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Options<T>;
}

// Parsers shared by the watchdog and router tables. Each message states the rule and echoes the value.

const show = (raw: string): string => JSON.stringify(raw);

export function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > 65535) {
    throw new Error(`expected a port number from 0 to 65535, got ${show(raw)}`);
  }
  return Number(raw);
}

export function parseNonNegativeInt(raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`expected a whole number of 0 or more, got ${show(raw)}`);
  }
  return Number(raw);
}

export function parsePositiveInt(raw: string): number {
  const n = parseNonNegativeInt(raw.replace(/^0+(?=\d)/, ''));
  if (n === 0) throw new Error(`expected a whole number of 1 or more, got ${show(raw)}`);
  return n;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got ${show(raw)}`);
}

export function parseNonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('expected a value, got an empty string');
  return raw;
}

/** A duration in milliseconds (see duration.ts); negative values cannot be written. */
export function parseDurationMs(raw: string): number {
  return parseDuration(raw);
}

/** A duration that must be above zero. */
export function parsePositiveDurationMs(raw: string): number {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new Error(`expected a duration above zero, got ${show(raw)}`);
  return ms;
}

/** Parser for one of a fixed set of words. */
export function parseOneOf<const V extends string>(values: readonly V[]): (raw: string) => V {
  return (raw) => {
    const v = raw.trim() as V;
    if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}, got ${show(raw)}`);
    return v;
  };
}

/** A byte size: 1048576, 512k, 1m, 1mb, 2MiB. */
export function parseBytes(raw: string): number {
  const m = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(raw.trim());
  if (m === null) throw new Error(`expected a size such as 1048576, 512k or 1m, got ${show(raw)}`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit]!;
  return Number(m[1]) * factor;
}
