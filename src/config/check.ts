/** `sextant check config FILE…`, like `promtool check config`. */
import { readFileSync } from 'node:fs';
import { Source } from './yaml.js';
import { loadConfigFile, resolveRuleFiles } from './load.js';
import { ConfigError } from './errors.js';

export interface CheckIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Checks each file: prints `Checking FILE`, then ` SUCCESS: FILE is valid prometheus config file
 * syntax` (stdout) or `  FAILED: <error>` (stderr), then lists the rule files found and checks
 * that each is readable YAML (rule syntax is checked by the rules subsystem later). Returns the
 * exit code: 0 when every file is valid, 1 otherwise.
 */
export async function checkConfigCommand(files: string[], io: CheckIo): Promise<number> {
  let failed = false;
  for (const file of files) {
    io.stdout.write(`Checking ${file}\n`);
    let config;
    try {
      config = await loadConfigFile(file);
    } catch (err) {
      io.stderr.write(`  FAILED: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
      io.stdout.write('\n');
      failed = true;
      continue;
    }
    io.stdout.write(` SUCCESS: ${file} is valid prometheus config file syntax\n`);
    const ruleFiles = resolveRuleFiles(config);
    if (ruleFiles.length > 0) io.stdout.write(` SUCCESS: ${ruleFiles.length} rule files found\n`);
    io.stdout.write('\n');
    for (const rf of ruleFiles) {
      io.stdout.write(`Checking ${rf}\n`);
      try {
        const text = readFileSync(rf, 'utf8');
        new Source(rf, text);
        io.stdout.write(`  SUCCESS: ${rf} is readable YAML (rule syntax not checked yet)\n`);
      } catch (err) {
        io.stderr.write(`  FAILED: ${(err as Error).message}\n`);
        failed = true;
      }
      io.stdout.write('\n');
    }
  }
  return failed ? 1 : 0;
}
