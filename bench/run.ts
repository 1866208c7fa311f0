/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts (compiled to dist/bench/<name>.js).
 * Every benchmark prints one JSON line per figure: {"bench","name","value","unit"} on stdout;
 * progress and notes go to stderr.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.startsWith('_') && f !== 'report.js')
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [args…]\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 1 : 0);
}
const mod = (await import(`./${name}.js`)) as { run(args: string[]): Promise<void> };
await mod.run(args);
