/** The one output shape of every benchmark: a JSON line per figure on stdout. */
export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  [extra: string]: unknown;
}

export function report(fig: Figure): void {
  process.stdout.write(JSON.stringify(fig) + '\n');
}

/** Progress and notes: stderr, so stdout stays machine-readable. */
export function note(msg: string): void {
  process.stderr.write(msg + '\n');
}
