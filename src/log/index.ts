// Logging in logfmt or JSON.
export { createLogger, nopLogger, type Logger, type LoggerOptions, type LogLevel, type LogFormat, type LogFields } from './logger.js';
