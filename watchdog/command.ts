// Splits fprocess the way a POSIX shell splits words, without ever running a shell:
// quotes and backslashes are honoured; $vars, globs, pipes and redirections are plain text.

/** Split a command line into program and arguments; throws on unbalanced quotes or an empty command. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 === line.length) throw new Error(`expected a character after the trailing backslash, got ${JSON.stringify(line)}`);
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`expected a closing ${quote} quote, got ${JSON.stringify(line)}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error(`expected a command, got ${JSON.stringify(line)}`);
  return words;
}
