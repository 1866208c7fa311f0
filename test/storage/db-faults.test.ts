import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Matcher, openStorage, type Storage } from '../../storage/index.js';
import { bits, countSamples, query, run, transpileStorage } from './helpers.js';

const tmpRoot = fs.mkdtempSync(join(os.tmpdir(), 'sextant-dbfaults-test-'));
fs.chmodSync(tmpRoot, 0o755); // the unprivileged child below must reach its script
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const H = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));
const SERIES = 200;
const STEP = 30_000;
/** A value that compresses badly (so a block is large), computable by parent and child. */
const value = (t: number, i: number): number => Math.sin(t / STEP + i * 7.3) * 1e6;

const CHILD_COMMON = `import { openStorage, Labels } from './storage/index.js';
const STEP = ${STEP};
const value = ${value.toString()};
function fill(db, from, to) {
  const refs = new Array(${SERIES}).fill(0);
  for (let t = from; t < to; t += ${STEP}) {
    const app = db.appender();
    for (let i = 0; i < ${SERIES}; i++) refs[i] = app.append(refs[i], Labels.fromPairs('__name__', 'f', 'i', String(i)), t, value(t, i));
    app.commit();
  }
}
`;

describe('faults of the data directory', () => {
  const work = join(tmpRoot, 'child');
  beforeAll(() => transpileStorage(work));

  it('an unwritable data directory gives a clear error and leaves the stored data intact', async () => {
    const dir = join(tmpRoot, 'ro');
    const db = await openStorage({ dir, compactInterval: 0 });
    await db.ready;
    const app = db.appender();
    for (let t = T0; t < T0 + 5 * H; t += STEP) app.append(0, (await import('../../storage/index.js')).Labels.fromPairs('__name__', 'x'), t, t);
    app.commit();
    db.compact();
    const want = query(db);
    await db.close();
    const listing = (d: string): string[] => fs.readdirSync(d, { recursive: true, withFileTypes: false }) as string[];
    const filesBefore = listing(dir).sort();
    const script = join(work, 'ro.mjs');
    fs.writeFileSync(script, `${CHILD_COMMON}
try { const db = await openStorage({ dir: process.argv[2], compactInterval: 0 }); await db.ready; process.stdout.write(JSON.stringify({ opened: true })); }
catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })); }
`);
    let out: string;
    if (process.getuid?.() === 0) {
      // root writes anywhere: run the child as nobody instead, on the root-owned directory.
      out = (await run(process.execPath, [script, dir], { cwd: work, uid: 65534, gid: 65534 })).out;
    } else {
      fs.chmodSync(dir, 0o555);
      try {
        out = (await run(process.execPath, [script, dir], { cwd: work })).out;
      } finally {
        fs.chmodSync(dir, 0o755);
      }
    }
    const res = JSON.parse(out) as { code: string; message: string };
    expect(res.code).toBe('io');
    expect(res.message).toContain(`cannot use data directory ${dir}`);
    expect(res.message).toMatch(/permission denied/);
    expect(listing(dir).sort()).toEqual(filesBefore);
    const again = await openStorage({ dir, compactInterval: 0 });
    await again.ready;
    expect(query(again)).toEqual(want);
    await again.close();
  });

  it('a full disk while persisting a block fails that compaction cleanly; the head keeps the data', async () => {
    const dir = join(tmpRoot, 'full');
    const script = join(work, 'full.mjs');
    fs.writeFileSync(script, `${CHILD_COMMON}
import * as fs from 'node:fs';
const db = await openStorage({ dir: process.argv[2], compactInterval: 0, walSegmentSize: 65536 });
await db.ready;
fill(db, ${T0}, ${T0 + 4 * H});
let error;
try { db.compact(); } catch (e) { error = { code: e.code, message: e.message }; }
const m = Object.fromEntries(db.metricFamilies().map((f) => [f.name, f.value()]));
const files = fs.readdirSync(process.argv[2] + '/blocks');
await db.close();
process.stdout.write(JSON.stringify({ error, failed: m.prometheus_tsdb_compactions_failed_total, blocks: m.prometheus_tsdb_blocks_loaded, files }));
`);
    // 64 KiB per file: WAL segments (64 KiB) fit, a 2 h block of these values does not.
    const r = await run('bash', ['-c', `trap '' XFSZ; ulimit -f 64; exec "${process.execPath}" "${script}" "${dir}"`], { cwd: work });
    if (r.code !== 0) throw new Error(`child failed (${r.code} ${r.signal}): ${r.err}`);
    const res = JSON.parse(r.out) as { error: { code: string; message: string }; failed: number; blocks: number; files: string[] };
    expect(res.error.code).toBe('io');
    expect(res.error.message).toMatch(/persisting the head range \[\d+, \d+\) failed: writing block .*\.block failed/);
    expect(res.failed).toBe(1);
    expect(res.blocks).toBe(0);
    expect(res.files).toEqual([]); // no temporary file left behind
    // Without the limit: everything is there, and persisting now works.
    const db: Storage = await openStorage({ dir, compactInterval: 0 });
    await db.ready;
    const got = query(db, [new Matcher('=', '__name__', 'f')]);
    expect(countSamples(got)).toBe(SERIES * ((4 * H) / STEP));
    expect(got['{__name__="f", i="17"}']![100]).toEqual([T0 + 100 * STEP, bits(value(T0 + 100 * STEP, 17))]);
    const before = query(db);
    expect(db.compact().persisted.length).toBe(1);
    expect(query(db)).toEqual(before);
    await db.close();
  });
});
