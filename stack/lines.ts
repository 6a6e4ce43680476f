// A watchdog's log lines as `up` re-emits them, tagged with the function's name (a `function` field in
// JSON lines, a `[name]` prefix in text lines), and the one line `up` waits for: `listening`.

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
  const match = /^\{.*"msg":"listening".*?"port":(\d+)/.exec(line) ?? /^\S+ info\s+listening .*?\bport=(\d+)/.exec(line);
  return match === null ? undefined : Number(match[1]);
}
