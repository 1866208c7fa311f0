/** `sextant check config FILE…`, like `promtool check config`. */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { TlsOptions } from '../../discovery/index.js';
import { ConfigError } from './errors.js';
import { loadConfigFile } from './load.js';
import { globFiles } from './parse.js';
import type { Config } from './types.js';
import { MapReader, Source } from './yaml.js';

export interface CheckIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Largest rule or SD file read by the checker. */
const MAX_CHECKED_FILE = 64 * 1024 * 1024;

function checkFileExists(file: string | undefined): string | undefined {
  if (file === undefined || file === '') return undefined;
  try {
    statSync(file);
    return undefined;
  } catch (err) {
    return `stat ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`;
  }
}

function checkTls(tls: TlsOptions | undefined): string | undefined {
  if (tls === undefined) return undefined;
  const c = checkFileExists(tls.certFile);
  if (c) return `error checking client cert file "${tls.certFile}": ${c}`;
  const k = checkFileExists(tls.keyFile);
  if (k) return `error checking client key file "${tls.keyFile}": ${k}`;
  return undefined;
}

/** A file_sd file: a list of `{targets: [...], labels: {...}}`, YAML or JSON. */
function checkSdFile(file: string): string | undefined {
  let text: string;
  try {
    if (statSync(file).size > MAX_CHECKED_FILE) return `larger than ${MAX_CHECKED_FILE} bytes`;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return (err as Error).message;
  }
  try {
    const src = new Source(file, text);
    const root = src.root();
    if (root === null) return undefined;
    if (!isSeq(root)) throw src.error(root, '', 'expected a list of target groups');
    root.items.forEach((n, i) => {
      const g = new MapReader(src, src.resolve(n as Node), `[${i}]`, 'target_group', ['targets', 'labels']);
      g.strList('targets');
      const labels = g.valueNode('labels');
      if (labels !== null && (!isMap(labels) || labels.items.some((p) => !isScalar(p.value) && p.value !== null))) {
        throw g.fail('labels', 'labels must be a map of label names to values');
      }
    });
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** promtool's non-syntax checks: files the config points to exist; returns errors and warnings. */
function checkReferencedFiles(config: Config): { errors: string[]; warnings: string[]; ruleFiles: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const ruleFiles: string[] = [];
  for (const rf of config.ruleFiles) {
    const found = globFiles(rf);
    if (!/[*?[]/.test(rf) && found.length === 0) errors.push(`"${rf}" does not point to an existing file`);
    ruleFiles.push(...found);
  }
  for (const sc of config.scrapeConfigs) {
    const a = sc.httpClient.authorization;
    const e = checkFileExists(a?.credentialsFile);
    if (e) errors.push(`error checking authorization credentials or bearer token file "${a!.credentialsFile}": ${e}`);
    const t = checkTls(sc.httpClient.tlsConfig);
    if (t) errors.push(t);
    for (const k of sc.kubernetesSdConfigs) {
      const kt = checkTls(k.tlsConfig);
      if (kt) errors.push(kt);
    }
    for (const f of sc.fileSdConfigs) {
      for (const pattern of f.files) {
        const files = globFiles(pattern);
        if (files.length === 0) warnings.push(`file "${pattern}" for file_sd in scrape job "${sc.jobName}" does not exist`);
        for (const file of files) {
          const err = checkSdFile(file);
          if (err) errors.push(`checking SD file "${pattern}": ${err}`);
        }
      }
    }
  }
  return { errors, warnings, ruleFiles };
}

/**
 * Checks each file as `promtool check config` does: prints `Checking FILE`, the rule files
 * found, ` SUCCESS: FILE is valid prometheus config file syntax` (stdout) or `  FAILED: <error>`
 * (stderr). Beyond syntax it checks, like promtool, that rule files, credentials files, client
 * certificates and file_sd files exist and that file_sd files hold target groups; each rule file
 * is then checked to be readable YAML (rule syntax itself is checked by the rules subsystem).
 * Returns the exit code: 0 when every file is valid, 1 otherwise.
 */
export async function checkConfigCommand(files: string[], io: CheckIo, opts: { syntaxOnly?: boolean } = {}): Promise<number> {
  let failed = false;
  for (const file of files) {
    const show = (p: string): string => (isAbsolute(file) ? p : relative(process.cwd(), p) || p);
    io.stdout.write(`Checking ${file}\n`);
    let config: Config;
    try {
      config = await loadConfigFile(file);
    } catch (err) {
      io.stderr.write(`  FAILED: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
      io.stdout.write('\n');
      failed = true;
      continue;
    }
    // --syntax-only: the YAML and its semantics, not the files it refers to (as promtool).
    const { errors, warnings, ruleFiles } = opts.syntaxOnly ? { errors: [], warnings: [], ruleFiles: [] as string[] } : checkReferencedFiles(config);
    for (const w of warnings) io.stdout.write(`  WARNING: ${w}\n`);
    if (errors.length > 0) {
      io.stderr.write(`  FAILED: ${errors[0]}\n`);
      io.stdout.write('\n');
      failed = true;
      continue;
    }
    if (ruleFiles.length > 0) io.stdout.write(`  SUCCESS: ${ruleFiles.length} rule files found\n`);
    io.stdout.write(` SUCCESS: ${file} is valid prometheus config file syntax\n\n`);
    for (const rf of ruleFiles) {
      io.stdout.write(`Checking ${show(rf)}\n`);
      try {
        if (statSync(rf).size > MAX_CHECKED_FILE) throw new Error(`larger than ${MAX_CHECKED_FILE} bytes`);
        new Source(show(rf), readFileSync(rf, 'utf8'));
        io.stdout.write(`  SUCCESS: readable YAML (rule syntax not checked yet)\n`);
      } catch (err) {
        io.stderr.write(`  FAILED:\n     ${(err as Error).message}\n`);
        failed = true;
      }
      io.stdout.write('\n');
    }
  }
  return failed ? 1 : 0;
}
