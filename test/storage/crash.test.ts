import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Matcher, openStorage } from '../../storage/index.js';
import { bits, query, transpileStorage } from './helpers.js';

const tmpRoot = fs.mkdtempSync(join(os.tmpdir(), 'sextant-crash-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const SERIES = 40;
const STEP = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 7_200_000);

/**
 * The child: opens the storage (background persistence every 20 ms, 2 h blocks: one block per
 * 120 commits), continues after the newest stored sample, and prints each committed
 * timestamp on stdout (a pipe: synchronous on Linux) right after `commit()` returns.
 */
const CHILD = `import { openStorage, Labels, Matcher } from './storage/index.js';
const db = await openStorage({ dir: process.argv[2], compactInterval: 20 });
await db.ready;
const q = db.querier(-Infinity, Infinity);
let t = ${T0};
const ss = q.select([new Matcher('=', 'i', '0')], -Infinity, Infinity);
if (ss.next()) { const it = ss.at().iterator(); while (it.next()) t = it.atT() + ${STEP}; }
q.close();
const labels = [];
for (let i = 0; i < ${SERIES}; i++) labels.push(Labels.fromPairs('__name__', 'crash', 'i', String(i)));
const refs = new Array(${SERIES}).fill(0);
process.stdout.write('start ' + t + '\\n');
for (let r = 0; r < 1_000_000; r++, t += ${STEP}) {
  const app = db.appender();
  for (let i = 0; i < ${SERIES}; i++) refs[i] = app.append(refs[i], labels[i], t, t / 1000 + i);
  app.commit();
  process.stdout.write(t + '\\n');
  if (r % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
}
`;

/** Runs the child until it has reported `commits` commits, SIGKILLs it; returns the last committed t. */
function runAndKill(work: string, dir: string, commits: number): Promise<{ start: number; last: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(work, 'child.mjs'), dir], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let start = NaN, last = NaN, n = 0, err = '';
    const rl = createInterface({ input: p.stdout });
    rl.on('line', (line) => {
      if (line.startsWith('start ')) {
        start = Number(line.slice(6));
        return;
      }
      last = Number(line);
      if (++n === commits) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${err}`));
      else resolve({ start, last });
    });
  });
}

describe('crash: SIGKILL while appending and persisting blocks', () => {
  const work = join(tmpRoot, 'child');
  beforeAll(() => {
    transpileStorage(work);
    fs.writeFileSync(join(work, 'child.mjs'), CHILD);
  });

  it('loses no committed sample, across three kills at different points', async () => {
    const dir = join(tmpRoot, 'data');
    let expectedLast = -Infinity;
    for (const commits of [150, 410, 777]) {
      const { start, last } = await runAndKill(work, dir, commits);
      // The child resumed right after everything the previous run committed.
      if (expectedLast > -Infinity) expect(start).toBeGreaterThan(expectedLast);
      expect(last).toBeGreaterThanOrEqual(start + (commits - 1) * STEP);
      expectedLast = last;
      const db = await openStorage({ dir, compactInterval: 0 });
      await db.ready;
      const got = query(db, [new Matcher('=', '__name__', 'crash')]);
      expect(Object.keys(got).length).toBe(SERIES);
      for (let i = 0; i < SERIES; i++) {
        const xs = got[`{__name__="crash", i="${i}"}`]!;
        // Every step from T0 to the last reported commit is there with its value, in order.
        const upTo = xs.filter(([t]) => t <= last);
        expect(upTo.length).toBe((last - T0) / STEP + 1);
        for (let k = 0; k < upTo.length; k += 37) {
          const t = T0 + k * STEP;
          expect(upTo[k]).toEqual([t, bits(t / 1000 + i)]);
        }
      }
      // Blocks were cut while the child ran (2 h = 120 commits).
      if (commits > 300) expect(db.blocks().length).toBeGreaterThan(0);
      await db.close();
    }
  });
});
