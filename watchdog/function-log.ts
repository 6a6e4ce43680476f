// Forwards a function's output stream to the log one line at a time (prefix_logs, log_format).
// Lines longer than MAX_LINE_BYTES are cut into pieces rather than stalling the pipe (of-watchdog#100).

import type { Readable } from 'node:stream';

/** A line longer than this is logged in pieces; the classic bufio limit that stalled of-watchdog. */
const MAX_LINE_BYTES = 64 * 1024;

export interface FunctionLogOptions {
  readonly format: 'text' | 'json';
  readonly prefix: boolean;
  readonly write: (line: string) => void;
  readonly now?: () => Date;
}

/** Format one line of function output as it goes to the watchdog's log. */
export function formatOutputLine(o: FunctionLogOptions, stream: 'stdout' | 'stderr', line: string): string {
  const time = (o.now ?? (() => new Date()))();
  if (o.format === 'json') return `${JSON.stringify({ time: time.toISOString(), level: 'info', msg: 'function output', stream, line })}\n`;
  return o.prefix ? `${time.toISOString()} ${stream}: ${line}\n` : `${line}\n`;
}

/** Read `source` to its end, logging each line; a final line without a newline is logged too. */
export function pipeToLog(source: Readable, stream: 'stdout' | 'stderr', o: FunctionLogOptions): void {
  let carry = '';
  source.setEncoding('utf8');
  source.on('data', (chunk: string) => {
    let text = carry + chunk;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      o.write(formatOutputLine(o, stream, text.slice(0, nl)));
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    while (text.length > MAX_LINE_BYTES) {
      o.write(formatOutputLine(o, stream, text.slice(0, MAX_LINE_BYTES)));
      text = text.slice(MAX_LINE_BYTES);
    }
    carry = text;
  });
  source.on('end', () => { if (carry !== '') o.write(formatOutputLine(o, stream, carry)); carry = ''; });
  source.on('error', () => {});
}
