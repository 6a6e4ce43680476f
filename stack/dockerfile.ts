// The Dockerfile reader `whippet up` and `whippet build` rely on, and the reference for the ENV grammar
// (README, "Dockerfile conventions"): instructions one per logical line, `\` continues a line,
// `#` lines are comments; ENV is `key=value` pairs separated by blanks, a value bare (no blanks, no
// quotes, no `$`) or double-quoted (`\"` and `\\` escaped) or single-quoted (literal).

/** One instruction: upper-case keyword, the rest of the logical line, and its first line number. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Splits a Dockerfile into instructions (continuations joined, comments and blank lines dropped). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Docker drops comment lines even inside a continued instruction.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trimEnd() : trimmed;
    pending = pending === undefined ? { text: piece, line: i + 1 } : { text: `${pending.text} ${piece}`, line: pending.line };
    if (continued) return;
    const m = /^([A-Za-z]+)\s*(.*)$/.exec(pending.text);
    if (m === null) throw new Error(`line ${pending.line}: not an instruction: ${pending.text}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`line ${pending.line}: the file ends inside a continued line`);
  return out;
}

/** Parses the arguments of one ENV instruction (`k=v k2="v 2"`) into pairs; throws on anything else. */
export function parseEnvArgs(args: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  const fail = (why: string): never => { throw new Error(`ENV ${args}: ${why} at column ${i + 1}`); };
  while (i < args.length) {
    if (/\s/.test(args[i]!)) { i++; continue; }
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(args.slice(i))?.[0] ?? fail('expected a variable name');
    i += key.length;
    if (args[i] !== '=') fail('expected key=value (the legacy "ENV key value" form is not supported)');
    i++;
    let value = '';
    const quote = args[i];
    if (quote === '"' || quote === "'") {
      i++;
      while (i < args.length && args[i] !== quote) {
        if (quote === '"' && args[i] === '\\' && i + 1 < args.length) i++;
        value += args[i];
        i++;
      }
      if (i >= args.length) fail('unterminated quote');
      i++;
      if (i < args.length && !/\s/.test(args[i]!)) fail('expected a blank after the closing quote');
    } else {
      while (i < args.length && !/\s/.test(args[i]!)) {
        if (args[i] === '\\' || args[i] === '$') fail('bare values may not contain \\ or $ (quote the value)');
        value += args[i];
        i++;
      }
    }
    pairs.push([key, value]);
  }
  return pairs;
}

/** Every ENV of the last stage, later lines winning, as the container would see them. */
export function dockerfileEnv(instructions: readonly Instruction[]): Record<string, string> {
  const lastFrom = instructions.map((x) => x.keyword).lastIndexOf('FROM');
  const env: Record<string, string> = {};
  for (const x of instructions.slice(lastFrom + 1)) {
    if (x.keyword === 'ENV') for (const [k, v] of parseEnvArgs(x.args)) env[k] = v;
  }
  return env;
}

/** The sources and flags of a COPY/ADD (flags such as --from=build, --chown=app). */
export function copySources(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  const flags: Record<string, string> = {};
  while (words.length > 0 && words[0]!.startsWith('--')) {
    const [k, v = ''] = words.shift()!.slice(2).split('=', 2);
    flags[k!] = v;
  }
  if (words.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  const dest = words.pop()!;
  return { flags, sources: words, dest };
}
