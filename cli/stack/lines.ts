// Child output, one line at a time: a watchdog's log lines are re-emitted by `up` tagged with the
// function's name (a `function` field in JSON lines, a `[name]` prefix in text lines).

/** Feed chunks, get whole lines (the last partial line waits for its end or for flush()). */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        onLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    },
    flush() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}

/** Tag a log line with the function it came from. */
export function tagLine(name: string, line: string): string {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as unknown;
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) return JSON.stringify({ function: name, ...record });
    } catch {
      // not JSON after all: prefix it like text
    }
  }
  return `[${name}] ${line}`;
}

/** The port of a `listening` log line (json or text format), or undefined. */
export function listeningPort(line: string): number | undefined {
  const m = /^\{.*"msg":"listening".*?"port":(\d+)/.exec(line) ?? /^\S+ info\s+listening .*?\bport=(\d+)/.exec(line);
  return m === null ? undefined : Number(m[1]);
}
