// The Dockerfile reader `whippet up` and `whippet build` rely on: they run a build folder with the ENV
// its image would have, so ENV is read as Docker reads it (docs/stack-file.md, "Dockerfile ENV"):
// instructions one per logical line, `\` continues a line, `#` lines are comments; only the final stage
// counts; `ENV k=v k2="v 2"` and the legacy `ENV key the rest of the line`; quotes and backslashes
// as in a shell word; `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR:+word}` expand from the earlier ENV
// and ARG lines of the stage and the base environment (where the image's own ENV would come from).

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
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Docker drops comment lines even inside a continued instruction.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trimEnd() : trimmed;
    pending = pending === undefined ? { text: piece, line: index + 1 } : { text: `${pending.text} ${piece}`, line: pending.line };
    if (continued) return;
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(pending.text);
    if (match === null) throw new Error(`line ${pending.line}: not an instruction: ${pending.text}`);
    out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`line ${pending.line}: the file ends inside a continued line`);
  return out;
}

type Variables = Readonly<Record<string, string | undefined>>;

/** Reads Docker's word syntax over one instruction's arguments: quotes, backslashes and `$` expansion. */
class WordReader {
  private at = 0;
  constructor(private readonly text: string, private readonly vars: Variables) {}

  get done(): boolean { return this.at >= this.text.length; }

  skipBlanks(): void {
    while (!this.done && /\s/.test(this.text[this.at]!)) this.at++;
  }

  /** A variable name at the current place, or '' when there is none. */
  name(): string {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at))?.[0] ?? '';
    this.at += name.length;
    return name;
  }

  peek(): string | undefined { return this.text[this.at]; }
  next(): string { return this.text[this.at++]!; }

  /**
   * One word: up to an unquoted blank (or to the end when `blanksEnd` is false, as in the legacy form),
   * or to an unquoted `stop` character (the `}` that ends a `${VAR:-word}`).
   */
  word(blanksEnd: boolean, stop?: string): string {
    let value = '';
    while (!this.done) {
      const char = this.peek()!;
      if (blanksEnd && /\s/.test(char)) break;
      if (char === stop) break;
      this.at++;
      if (char === '\\') {
        if (this.done) this.fail('a trailing backslash');
        value += this.next();
      } else if (char === "'") {
        const end = this.text.indexOf("'", this.at);
        if (end === -1) this.fail('an unterminated single quote');
        value += this.text.slice(this.at, end);
        this.at = end + 1;
      } else if (char === '"') {
        value += this.doubleQuoted();
      } else if (char === '$') {
        value += this.expansion();
      } else {
        value += char;
      }
    }
    return value;
  }

  private doubleQuoted(): string {
    let value = '';
    for (;;) {
      if (this.done) this.fail('an unterminated double quote');
      const char = this.next();
      if (char === '"') return value;
      // As in a shell: inside double quotes a backslash escapes only ", $ and itself.
      if (char === '\\' && !this.done && '"$\\'.includes(this.peek()!)) value += this.next();
      else if (char === '$') value += this.expansion();
      else value += char;
    }
  }

  /** After a `$`: the value of $VAR or ${VAR...}; a `$` before anything else is itself. */
  private expansion(): string {
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : this.vars[name] ?? '';
    }
    this.at++;
    const name = this.name();
    if (name === '') this.fail('a ${ without a variable name');
    const value = this.vars[name];
    if (this.done) this.fail(`an unterminated \${${name}`);
    if (this.peek() === '}') { this.at++; return value ?? ''; }
    // ${VAR:-word}: word when VAR is unset or empty; ${VAR:+word}: word when VAR is set and not empty.
    // Without the colon, only "unset" counts, as in a shell.
    const colon = this.peek() === ':';
    if (colon) this.at++;
    const operator = this.done ? '' : this.next();
    if (operator !== '-' && operator !== '+') this.fail(`\${${name}${colon ? ':' : ''}${operator}: only \${VAR:-word} and \${VAR:+word} are read`);
    const word = this.word(false, '}');
    if (this.peek() !== '}') this.fail(`an unterminated \${${name}`);
    this.at++;
    const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
    return operator === '-' ? (isSet ? value! : word) : (isSet ? word : '');
  }

  fail(what: string): never {
    throw new Error(`${what} at column ${this.at + 1}`);
  }
}

/**
 * The pairs of one ENV instruction, its values expanded from `vars` (what was set before this line:
 * Docker expands every pair of one instruction with the values from before it). `ENV a=1 b="x y"`,
 * or the legacy `ENV key value` whose value is the rest of the line.
 */
export function parseEnvArgs(args: string, vars: Variables = {}): Array<[string, string]> {
  try {
    const reader = new WordReader(args, vars);
    reader.skipBlanks();
    const first = reader.name();
    if (first === '') reader.fail('expected a variable name');
    if (reader.peek() !== '=') {
      // Legacy form: one variable, the value is everything after the blanks that follow its name.
      if (!reader.done && !/\s/.test(reader.peek()!)) reader.fail(`expected = or a blank after ${first}`);
      reader.skipBlanks();
      if (reader.done) reader.fail(`ENV ${first} has no value (write ${first}= for an empty one)`);
      return [[first, reader.word(false)]];
    }
    const pairs: Array<[string, string]> = [];
    let key = first;
    for (;;) {
      reader.next();
      pairs.push([key, reader.word(true)]);
      reader.skipBlanks();
      if (reader.done) return pairs;
      key = reader.name();
      if (key === '' || reader.peek() !== '=') reader.fail('expected key=value (the legacy "ENV key value" form holds one variable)');
    }
  } catch (err) {
    throw new Error(`ENV ${args}: ${(err as Error).message}`);
  }
}

/** One ARG's name and default (`ARG name` or `ARG name=default`), for expanding later lines. */
function parseArg(args: string, vars: Variables): [string, string | undefined] {
  const reader = new WordReader(args, vars);
  reader.skipBlanks();
  const name = reader.name();
  if (name === '') throw new Error(`ARG ${args}: expected a name`);
  if (reader.peek() !== '=') return [name, undefined];
  reader.next();
  return [name, reader.word(true)];
}

/**
 * Every ENV of the final stage, later lines winning, as the container would see them. `base` is the
 * environment the image starts from, for `$PATH` and the like; it is read, not returned.
 */
export function dockerfileEnv(instructions: readonly Instruction[], base: Variables = {}): Record<string, string> {
  const lastFrom = instructions.map((instruction) => instruction.keyword).lastIndexOf('FROM');
  const env: Record<string, string> = {};
  // What `$NAME` sees: the base environment, then the stage's ARG defaults, then its ENV (ENV wins over ARG).
  const vars: Record<string, string | undefined> = { ...base };
  for (const instruction of instructions.slice(lastFrom + 1)) {
    if (instruction.keyword === 'ENV') {
      const pairs = parseEnvArgs(instruction.args, { ...vars });
      for (const [key, value] of pairs) { env[key] = value; vars[key] = value; }
    } else if (instruction.keyword === 'ARG') {
      const [name, value] = parseArg(instruction.args, vars);
      if (value !== undefined && env[name] === undefined) vars[name] = value;
    }
  }
  return env;
}

/** The sources and flags of a COPY/ADD (flags such as --from=build, --chown=app). */
export function copySources(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  const flags: Record<string, string> = {};
  while (words.length > 0 && words[0]!.startsWith('--')) {
    const [flag, value = ''] = words.shift()!.slice(2).split('=', 2);
    flags[flag!] = value;
  }
  if (words.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  const dest = words.pop()!;
  return { flags, sources: words, dest };
}
