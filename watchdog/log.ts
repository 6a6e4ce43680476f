// One line per event: a fixed message plus fields. `json` for machines, readable text for people.
// Logs go to stderr by default: in the watchdog, stdout belongs to nobody but the operator's log pipe.

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
    const all = fields === undefined ? base : { ...base, ...fields };
    write(format === 'json' ? jsonLine(now(), level, msg, all) : textLine(now(), level, msg, all));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

function jsonLine(time: Date, level: LogLevel, msg: string, fields: Fields): string {
  const record: Record<string, unknown> = { time: time.toISOString(), level, msg };
  for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? v.message : v;
  return `${JSON.stringify(record)}\n`;
}

function textLine(time: Date, level: LogLevel, msg: string, fields: Fields): string {
  let line = `${time.toISOString()} ${level.padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`;
  }
  return `${line}\n`;
}
