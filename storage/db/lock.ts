/**
 * The data directory's lock file: `<dir>/lock` holding the owner's PID. Created with O_EXCL;
 * a lock left by a process that no longer exists is taken over.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../interface.js';
import type { StorageLogger } from '../wal/types.js';

export const LOCK_FILE = 'lock';

/** Lock files held by this process (to tell our own lock from a previous process that had our PID). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dir`; returns its path. Throws `StorageError('locked' | 'io')`. */
export function acquireLock(dir: string, log: StorageLogger): string {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx', 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EEXIST') throw new StorageError('io', `cannot create lock file ${path}: ${e.message}`, { cause: err });
      let text = '';
      try {
        text = fs.readFileSync(path, 'utf8');
      } catch {
        continue; // removed meanwhile: try again
      }
      const pid = Number.parseInt(text.trim(), 10);
      // A container restarts its entrypoint with the same PID (often 1): a lock naming our own
      // PID that this process does not hold was left by the previous incarnation.
      const ours = pid === process.pid && !held.has(path);
      if (Number.isInteger(pid) && pid > 0 && !ours && alive(pid)) {
        throw new StorageError('locked', `data directory ${dir} is in use by process ${pid} (lock file ${path}); stop that process or use another --storage.tsdb.path`);
      }
      log.warn('taking over a stale lock file', { path, pid: Number.isNaN(pid) ? text.slice(0, 20) : pid });
      fs.rmSync(path, { force: true });
      continue;
    }
    try {
      fs.writeSync(fd, `${process.pid}\n`);
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(path, { force: true });
      throw new StorageError('io', `cannot write lock file ${path}: ${(err as Error).message}`, { cause: err });
    }
    fs.closeSync(fd);
    held.add(path);
    return path;
  }
  throw new StorageError('locked', `cannot take the lock file ${path} (it keeps reappearing)`);
}

export function releaseLock(path: string): void {
  held.delete(path);
  try {
    const text = fs.readFileSync(path, 'utf8');
    if (Number.parseInt(text.trim(), 10) === process.pid) fs.rmSync(path, { force: true });
  } catch {
    // already gone
  }
}
