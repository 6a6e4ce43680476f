// Forwards a function's output stream to the log one line at a time (prefix_logs, log_format).
// Lines longer than MAX_LINE_BYTES are cut into pieces rather than stalling the pipe (of-watchdog#100).

import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { isoTime } from '../common/utc-time.js';

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
  if (o.format === 'json') return `${JSON.stringify({ time: isoTime(time), level: 'info', msg: 'function output', stream, line })}\n`;
  return o.prefix ? `${isoTime(time)} ${stream}: ${line}\n` : `${line}\n`;
}

/** Splits output chunks into log lines; a multi-byte character split across chunks stays whole. */
export class LineLog {
  private carry = '';
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly o: FunctionLogOptions, private readonly stream: 'stdout' | 'stderr') {}

  push(chunk: Buffer | string): void {
    const { o, stream } = this;
    let text = this.carry + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
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
    this.carry = text;
  }

  /** The output ended: a final line without a newline is logged too. */
  end(): void {
    const text = this.carry + this.decoder.end();
    if (text !== '') this.o.write(formatOutputLine(this.o, this.stream, text));
    this.carry = '';
  }
}

/** Read `source` to its end, logging each line; a final line without a newline is logged too. */
export function pipeToLog(source: Readable, stream: 'stdout' | 'stderr', o: FunctionLogOptions): void {
  const lines = new LineLog(o, stream);
  source.setEncoding('utf8');
  source.on('data', (chunk: string) => lines.push(chunk));
  source.on('end', () => lines.end());
  source.on('error', () => {});
}
