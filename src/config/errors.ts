/**
 * Errors of the config loader. Every error names the file, the 1-based line and column of
 * the offending YAML node and the field's path (e.g. `scrape_configs[0].scrape_timeout`), and
 * words the problem as Prometheus does where there is a Prometheus equivalent.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The config file ('' when the error is not tied to a file). */
  readonly file: string;
  /** 1-based; 0 when no position is known. */
  readonly line: number;
  readonly column: number;
  /** YAML path of the field, e.g. `scrape_configs[1].relabel_configs[0].regex` ('' = the document). */
  readonly path: string;
  /** The problem without location, e.g. `found multiple scrape configs with job name "x"`. */
  readonly reason: string;

  constructor(file: string, line: number, column: number, path: string, reason: string, options?: ErrorOptions) {
    const loc = line > 0 ? `${file}:${line}:${column}` : file;
    super(`${loc}: ${path ? path + ': ' : ''}${reason}`, options);
    this.file = file;
    this.line = line;
    this.column = column;
    this.path = path;
    this.reason = reason;
  }
}
