// One line per event: a fixed message plus fields. `json` for machines, readable text for people.
// Logs go to stderr by default: in the watchdog, stdout belongs to nobody but the operator's log pipe.

import { isoTime } from './utc-time.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line (a call id, a function name). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
  now?: () => Date;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Create a logger; `base` fields appear on every line. */
export function createLogger(options: LoggerOptions = {}, base: Fields = {}): Logger {
  const format = options.format ?? 'text';
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => { process.stderr.write(line); });
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: Fields): void => {
    if (RANK[level] < min) return;
    write(format === 'json' ? jsonLine(now(), level, msg, base, fields) : textLine(now(), level, msg, base, fields));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

// A line is built as a string from `base` then `fields` (a field replaces a base field of the same name):
// no merged object per line, which a watchdog logging every request would pay for on every request.

function jsonLine(time: Date, level: LogLevel, msg: string, base: Fields, fields: Fields | undefined): string {
  let line = `{"time":"${isoTime(time)}","level":"${level}","msg":${JSON.stringify(msg)}`;
  for (const k in base) if (fields === undefined || !(k in fields)) line += jsonField(k, base[k]);
  if (fields !== undefined) for (const k in fields) line += jsonField(k, fields[k]);
  return `${line}}\n`;
}

function jsonField(key: string, value: unknown): string {
  // As JSON.stringify of an object: undefined (and functions) leave the key out.
  const text = JSON.stringify(value instanceof Error ? value.message : value) as string | undefined;
  return text === undefined ? '' : `,${JSON.stringify(key)}:${text}`;
}

function textLine(time: Date, level: LogLevel, msg: string, base: Fields, fields: Fields | undefined): string {
  let line = `${isoTime(time)} ${level.padEnd(5)} ${msg}`;
  for (const k in base) if (fields === undefined || !(k in fields)) line += textField(k, base[k]);
  if (fields !== undefined) for (const k in fields) line += textField(k, fields[k]);
  return `${line}\n`;
}

function textField(key: string, value: unknown): string {
  if (value === undefined) return '';
  const text = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value);
  return ` ${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`;
}
