// The README walkthrough is one source of truth: README.md's ```console blocks are
// parsed into steps (`$ command` + the output shown under it), and each expected output is turned into
// a matcher: `<word>` stands for one changing value, `...` alone on a line for any lines, inside a line
// for any text.

/** One `$ command` and the lines shown under it. */
export interface Step {
  readonly command: string;
  readonly expected: readonly string[];
}

/** The steps of every ```console block, in order. */
export function consoleSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  const blocks = markdown.matchAll(/^```console\n([\s\S]*?)^```$/gm);
  for (const [, body] of blocks) {
    let current: { command: string; expected: string[] } | undefined;
    for (const line of body!.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) {
        if (current !== undefined) steps.push(current);
        current = { command: line.slice(2), expected: [] };
      } else if (current !== undefined) {
        current.expected.push(line);
      }
    }
    if (current !== undefined) steps.push(current);
  }
  return steps;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex for a whole output (ending in a newline unless empty) that the shown lines describe. */
export function outputMatcher(expected: readonly string[]): RegExp {
  let source = '';
  for (const line of expected) {
    if (line === '...') { source += '(?:[^\\n]*\\n)*?'; continue; }
    const parts = line.split(/(<[a-z][a-z-]*>|\.\.\.)/);
    source += parts.map((p) => (p === '...' ? '[^\\n]*?' : /^<[a-z][a-z-]*>$/.test(p) ? '[^\\s",]+' : escape(p))).join('') + '\\n';
  }
  return new RegExp(`^${source}$`);
}

/** Whether `actual` is what the README shows (trailing blank lines aside). */
export function matchesOutput(expected: readonly string[], actual: string): boolean {
  // curl -i shows HTTP's CRLF line ends; a terminal shows plain lines.
  const text = actual.replace(/\r\n/g, '\n').replace(/\n*$/, '');
  return outputMatcher(expected).test(text === '' ? '' : `${text}\n`);
}
