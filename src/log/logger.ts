/**
 * Structured logging in Prometheus's two formats: logfmt (default) and JSON, with levels
 * debug < info < warn < error. Output goes to stderr, one line per record, as Prometheus does.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (e.g. `{component: 'scrape'}`). */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

function logfmtValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.message;
  else if (typeof v === 'string') s = v;
  else if (v === undefined) s = '';
  else s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s === '' || /[\s"=\\]/.test(s) ? JSON.stringify(s) : s;
}

function jsonValue(v: unknown): unknown {
  return v instanceof Error ? v.message : v;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const format = opts.format ?? 'logfmt';
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));

  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LEVELS[level] < min) return;
      const all: LogFields = { time: new Date().toISOString(), level, ...base, msg, ...fields };
      if (format === 'json') {
        const o: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(all)) o[k] = jsonValue(v);
        write(JSON.stringify(o));
      } else {
        write(Object.entries(all).map(([k, v]) => `${k}=${logfmtValue(v)}`).join(' '));
      }
    };
    return {
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      with: (f) => make({ ...base, ...f }),
    };
  };
  return make({});
}

/** A logger that drops everything (tests, benchmarks). */
export const nopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  with: () => nopLogger,
};
