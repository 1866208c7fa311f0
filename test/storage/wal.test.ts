import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join, dirname, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Head, Labels, Matcher, STALE_NAN, StorageError, ValueType, Wal, isStaleNaN, type StorageLogger } from '../../storage/index.js';

const tmpRoot = fs.mkdtempSync(join(os.tmpdir(), 'sextant-wal-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let dirSeq = 0;
const newDir = (): string => join(tmpRoot, `d${dirSeq++}`);

const L = (...nv: string[]): Labels => Labels.fromPairs(...nv);
const all = [new Matcher('=~', '__name__', '.+')];

/** Every sample in the head as `labels → [[t, bits], …]`, bits so NaN payloads compare exactly. */
function contents(head: Head): Record<string, Array<[number, string]>> {
  const q = head.querier(-Infinity, Infinity);
  const ss = q.select(all, -Infinity, Infinity);
  const out: Record<string, Array<[number, string]>> = {};
  const f = new Float64Array(1), u = new Uint32Array(f.buffer);
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const xs: Array<[number, string]> = [];
    while (it.next() !== ValueType.None) {
      const v = it.atF();
      f[0] = v;
      xs.push([it.atT(), isStaleNaN(v) ? 'stale' : `${u[1]!.toString(16)}:${u[0]!.toString(16)}`]);
    }
    out[s.labels.toString()] = xs;
  }
  q.close();
  return out;
}

interface Logged {
  logger: StorageLogger;
  warnings: Array<[string, Record<string, unknown> | undefined]>;
}

function recorder(): Logged {
  const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
  return { warnings, logger: { info() {}, warn: (msg, fields) => warnings.push([msg, fields]) } };
}

function reopen(dir: string, minValidTime = -Infinity, logger?: StorageLogger): { head: Head; wal: Wal; stats: ReturnType<Head['replayWal']> } {
  const wal = Wal.open(dir, { logger });
  const head = new Head({ logger });
  head.setMinValidTime(minValidTime);
  const stats = head.replayWal(wal);
  return { head, wal, stats };
}

/** Commits `rounds` batches over `series` series; returns the head (WAL attached). */
function fill(dir: string, rounds: number, series: number, opts: { segmentSize?: number; t0?: number; step?: number } = {}): { head: Head; wal: Wal } {
  const wal = Wal.open(dir, { segmentSize: opts.segmentSize });
  const head = new Head();
  head.replayWal(wal);
  const refs = new Array<number>(series).fill(0);
  for (let r = 0; r < rounds; r++) {
    const app = head.appender();
    for (let i = 0; i < series; i++) {
      const t = (opts.t0 ?? 1_700_000_000_000) + r * (opts.step ?? 15_000) + (i % 3);
      const v = i % 7 === 0 && r % 5 === 4 ? STALE_NAN : r * 1.5 + i;
      refs[i] = app.append(refs[i]!, L('__name__', 'm', 'i', String(i)), t, v);
    }
    app.commit();
  }
  return { head, wal };
}

/** Record start offsets of a WAL file (walking the framing: type, length, CRC). */
function recordOffsets(file: string): number[] {
  const b = fs.readFileSync(file);
  const out: number[] = [];
  for (let p = 0; p < b.length; ) {
    out.push(p);
    p += 9 + b.readUInt32BE(p + 1);
  }
  return out;
}

describe('WAL replay', () => {
  it('rebuilds exactly what was committed: series, samples (bit-exact), tombstones', () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 30, 20);
    // Payload NaNs, ±0, ±Inf survive the WAL bit for bit.
    const f = new Float64Array(1), u = new Uint32Array(f.buffer);
    u[1] = 0xfff80000;
    u[0] = 0xabcdef;
    const app = head.appender();
    [f[0]!, -0, Infinity, -Infinity, 5e-324].forEach((v, k) => app.append(0, L('__name__', 'special', 'k', String(k)), 2e12, v));
    app.commit();
    expect(head.delete([new Matcher('=', 'i', '3')], 1_700_000_015_000, 1_700_000_100_000)).toBe(1);
    const before = contents(head);
    wal.close();
    const { head: again, stats } = reopen(dir);
    expect(contents(again)).toEqual(before);
    expect(stats.wal.corruptions).toBe(0);
    expect(stats.wal.samples).toBe(30 * 20 + 5);
    expect(stats.head.samples).toBe(30 * 20 + 5);
    expect(stats.head.tombstones).toBe(1);
    expect(again.numSeries).toBe(25);
    // Refs are the same as before the restart.
    expect(again.findRef(L('__name__', 'm', 'i', '7'))).toBe(head.findRef(L('__name__', 'm', 'i', '7')));
  });

  it('continues in a new segment after a restart, and replays across restarts', () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 3, 4);
    wal.close();
    const a = reopen(dir);
    const app = a.head.appender();
    app.append(0, L('__name__', 'm', 'i', '0'), 1_800_000_000_000, 42);
    app.append(0, L('__name__', 'new'), 1_800_000_000_000, 1);
    app.commit();
    expect(a.wal.currentSegment).toBe(1);
    a.wal.close();
    const b = reopen(dir);
    const c = contents(b.head);
    expect(c['{__name__="m", i="0"}']!.at(-1)).toEqual([1_800_000_000_000, '40450000:0']);
    expect(c['{__name__="new"}']).toEqual([[1_800_000_000_000, '3ff00000:0']]);
    expect(Object.keys(c)).toHaveLength(5);
    expect(b.stats.wal.segments).toBe(2);
    void head;
  });

  it('replayAsync gives the same head while letting the event loop run, and reports progress', async () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 2000, 10, { segmentSize: 64 * 1024 });
    wal.close();
    const w = Wal.open(dir);
    expect(w.replayStatus().state).toBe('waiting');
    const h = new Head();
    let ticks = 0;
    const seen = new Set<number>();
    const timer = setInterval(() => {
      ticks++;
      seen.add(w.replayStatus().current);
    }, 0);
    const immediates = (): void => {
      ticks++;
      seen.add(w.replayStatus().current);
      if (w.replayStatus().state !== 'done') setImmediate(immediates);
    };
    setImmediate(immediates);
    const st = await h.replayWalAsync(w);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(2);
    expect(seen.size).toBeGreaterThan(1); // progress moved across segments while replaying
    expect(w.replayStatus()).toMatchObject({ min: 0, state: 'done' });
    expect(w.replayStatus().max).toBe(w.replayStatus().current);
    expect(st.wal.samples).toBe(20_000);
    expect(contents(h)).toEqual(contents(head));
  });

  it('skips samples older than the min valid time (already in blocks)', () => {
    const dir = newDir();
    const { wal } = fill(dir, 10, 2, { t0: 0, step: 1000 });
    wal.close();
    const { head, stats } = reopen(dir, 5000);
    expect(stats.head.samplesTooOld).toBe(10);
    expect(Object.values(contents(head)).every((xs) => xs.every(([t]) => t >= 5000))).toBe(true);
  });

  it('a torn tail at every byte offset of the last record: everything before it survives', () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 5, 3);
    const seg = join(dir, '00000000');
    const before = contents(head);
    const sizeBefore = fs.statSync(seg).size;
    const app = head.appender();
    app.append(0, L('__name__', 'last', 'x', 'y'), 1_800_000_000_000, 1);
    app.append(0, L('__name__', 'm', 'i', '0'), 1_800_000_000_000, 2);
    app.commit();
    wal.close();
    const full = fs.readFileSync(seg);
    const offsets = recordOffsets(seg);
    const lastStart = offsets.at(-1)!;
    // The last commit is a series record (the new series) and a samples record.
    expect(offsets.slice(-2)).toEqual([sizeBefore, lastStart]);
    expect(Object.keys(contents(head))).toContain('{__name__="last", x="y"}');
    for (let cut = sizeBefore; cut < full.length; cut++) {
      const d = newDir();
      fs.mkdirSync(d);
      fs.writeFileSync(join(d, '00000000'), full.subarray(0, cut));
      const log = recorder();
      const { head: h, stats } = reopen(d, -Infinity, log.logger);
      // Whether or not the series record survived, no sample of the torn commit is there.
      expect(contents(h), `cut at ${cut}`).toEqual(before);
      const clean = cut === sizeBefore || cut === lastStart;
      expect(stats.wal.corruptions, `cut at ${cut}`).toBe(clean ? 0 : 1);
      if (!clean) {
        expect(log.warnings[0]![0]).toMatch(/WAL corruption/);
        expect(log.warnings[0]![1]).toMatchObject({ offset: cut < lastStart ? sizeBefore : lastStart, bytes_dropped: cut - (cut < lastStart ? sizeBefore : lastStart) });
      }
      // The file was repaired: cut back to the last whole record.
      expect(fs.statSync(join(d, '00000000')).size).toBe(cut < lastStart ? sizeBefore : lastStart);
      h.close();
    }
    // And the whole file replays the whole last commit.
    expect(contents(reopen(dir).head)).toEqual(contents(head));
  });

  it('a corrupt record in the middle: everything before survives, the rest of that segment goes, later segments are kept', () => {
    const dir = newDir();
    // Small segments so several exist.
    const { head, wal } = fill(dir, 2000, 10, { segmentSize: 64 * 1024 });
    wal.close();
    const segs = fs.readdirSync(dir).filter((f) => /^\d{8}$/.test(f)).sort();
    expect(segs.length).toBeGreaterThanOrEqual(3);
    const victim = join(dir, segs[1]!);
    const offsets = recordOffsets(victim);
    const mid = offsets[Math.floor(offsets.length / 2)]!;
    const bytes = fs.readFileSync(victim);
    bytes[mid + 20] ^= 0x40; // inside the payload: the CRC catches it
    fs.writeFileSync(victim, bytes);
    const log = recorder();
    const { head: h, stats } = reopen(dir, -Infinity, log.logger);
    expect(stats.wal.corruptions).toBe(1);
    expect(stats.wal.bytesDropped).toBe(bytes.length - mid);
    expect(stats.wal.samplesDropped).toBeGreaterThan(0);
    expect(log.warnings[0]![1]).toMatchObject({ offset: mid, reason: expect.stringMatching(/CRC mismatch/) });
    expect(fs.statSync(victim).size).toBe(mid);
    // What was committed before the damage is all there; later segments' samples too, so
    // each series has a gap exactly where the dropped records were.
    const got = contents(h);
    const want = contents(head);
    let gaps = 0;
    for (const [k, xs] of Object.entries(want)) {
      const g = got[k]!;
      expect(g.length).toBeLessThan(xs.length);
      // got is want minus one contiguous run.
      let i = 0;
      while (i < g.length && g[i]![0] === xs[i]![0]) i++;
      const missing = xs.length - g.length;
      expect(g.slice(i)).toEqual(xs.slice(i + missing));
      if (missing > 0) gaps++;
    }
    expect(gaps).toBe(10);
    // A second replay finds nothing more to repair.
    const again = reopen(dir);
    expect(again.stats.wal.corruptions).toBe(0);
    expect(contents(again.head)).toEqual(got);
  });

  it('samples whose series record was lost are dropped and counted', () => {
    const dir = newDir();
    const { wal } = fill(dir, 3, 2);
    wal.close();
    const seg = join(dir, '00000000');
    const offsets = recordOffsets(seg);
    const bytes = fs.readFileSync(seg);
    bytes[offsets[0]! + 12] ^= 1; // the first record: series
    fs.writeFileSync(seg, bytes);
    // Add a later segment referring to those series.
    fs.writeFileSync(join(dir, '00000001'), bytes.subarray(offsets[1]!, offsets[2]!));
    const { stats } = reopen(dir);
    expect(stats.wal.corruptions).toBe(1);
    expect(stats.head.samplesUnknownSeries).toBe(2);
  });

  it('garbage and zeroed tails are cut off', () => {
    for (const tail of [Buffer.alloc(100), Buffer.from('not a record at all, just text'), Buffer.from([2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]) {
      const dir = newDir();
      const { head, wal } = fill(dir, 4, 2);
      wal.close();
      fs.appendFileSync(join(dir, '00000000'), tail);
      const { head: h, stats } = reopen(dir);
      expect(stats.wal.corruptions).toBe(1);
      expect(stats.wal.bytesDropped).toBe(tail.length);
      expect(contents(h)).toEqual(contents(head));
    }
  });
});

describe('WAL truncation and checkpoints', () => {
  it('drops segments older than mint, keeping the series still in the head', () => {
    const dir = newDir();
    const HOUR = 3_600_000;
    const wal = Wal.open(dir, { segmentSize: 64 * 1024 });
    const head = new Head();
    head.replayWal(wal);
    // Two series die after 1 h; the rest lives on. 5 s samples over 5 h.
    for (let t = 0; t < 5 * HOUR; t += 5_000) {
      const app = head.appender();
      for (let i = 0; i < 8; i++) {
        if (i < 2 && t >= HOUR) continue;
        app.append(0, L('__name__', 'm', 'i', String(i)), t, t / 1000 + i);
      }
      app.commit();
    }
    const mint = 2 * HOUR;
    head.truncate(mint);
    expect(head.numSeries).toBe(6);
    const segsBefore = wal.segmentIndices();
    const st = wal.truncate(mint, (ref) => head.hasSeries(ref));
    expect(st.checkpoint).toBeGreaterThanOrEqual(0);
    expect(st.seriesKept).toBe(6);
    expect(st.seriesDropped).toBe(2);
    expect(st.segmentsDeleted).toBeGreaterThan(0);
    expect(wal.segmentIndices()[0]).toBe(st.checkpoint + 1);
    expect(fs.existsSync(join(dir, `checkpoint.${String(st.checkpoint).padStart(8, '0')}`))).toBe(true);
    expect(wal.truncations).toBe(1);
    expect(wal.checkpointCreations).toBe(1);
    expect(segsBefore.length).toBeGreaterThan(wal.segmentIndices().length);
    // Keep appending, restart: checkpoint + remaining segments give the same head.
    const app = head.appender();
    app.append(0, L('__name__', 'm', 'i', '5'), 5 * HOUR, 1);
    app.commit();
    wal.close();
    const again = reopen(dir, mint);
    expect(again.stats.wal.checkpoint).toBe(st.checkpoint);
    expect(contents(again.head)).toEqual(contents(head));
    expect(again.head.numSeries).toBe(6);
    // A second truncation replaces the first checkpoint.
    for (let t = 5 * HOUR + 10_000; t < 8 * HOUR; t += 10_000) {
      const a = again.head.appender();
      for (let i = 2; i < 8; i++) a.append(0, L('__name__', 'm', 'i', String(i)), t, i);
      a.commit();
    }
    again.head.truncate(6 * HOUR);
    const st2 = again.wal.truncate(6 * HOUR, (ref) => again.head.hasSeries(ref));
    expect(st2.checkpoint).toBeGreaterThan(st.checkpoint);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('checkpoint.'))).toEqual([`checkpoint.${String(st2.checkpoint).padStart(8, '0')}`]);
    again.wal.close();
    const third = reopen(dir, 6 * HOUR);
    expect(contents(third.head)).toEqual(contents(again.head));
  });

  it('truncation with nothing old enough changes nothing', () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 3, 2, { t0: 10_000 });
    expect(wal.truncate(0, (r) => head.hasSeries(r))).toEqual({ checkpoint: -1, segmentsDeleted: 0, seriesKept: 0, seriesDropped: 0 });
    wal.close();
    expect(contents(reopen(dir).head)).toEqual(contents(head));
  });
});

describe('WAL faults', () => {
  it('an unusable directory is a clear io error', () => {
    const file = join(tmpRoot, 'a-file');
    fs.writeFileSync(file, 'x');
    let err: unknown;
    try {
      Wal.open(join(file, 'wal'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('io');
    expect((err as StorageError).message).toMatch(/cannot use WAL directory .*a-file\/wal/);
  });

  it('a write to a closed WAL fails and the head is unchanged', () => {
    const dir = newDir();
    const { head, wal } = fill(dir, 2, 2);
    const before = contents(head);
    wal.close();
    const app = head.appender();
    app.append(0, L('__name__', 'm', 'i', '0'), 1_900_000_000_000, 1);
    expect(() => app.commit()).toThrow(StorageError);
    expect(contents(head)).toEqual(before);
    expect(head.activeAppenders).toBe(0);
  });

  describe('a full disk (file size limit) in a child process', () => {
    const work = join(tmpRoot, 'child');
    beforeAll(() => transpileStorage(work));

    it('fails the commit that does not fit with an io error, rolls it back, and keeps the WAL consistent', async () => {
      const dir = join(work, 'data');
      const script = join(work, 'child.mjs');
      fs.writeFileSync(
        script,
        `import { Head, Labels, Wal } from './storage/index.js';
const wal = Wal.open(process.argv[2]);
const head = new Head();
head.replayWal(wal);
const committed = [];
let error;
for (let r = 0; r < 100000 && !error; r++) {
  const app = head.appender();
  const batch = [];
  for (let i = 0; i < 50; i++) {
    const t = 1000 * r, v = r * 100 + i;
    app.append(0, Labels.fromPairs('__name__', 'm', 'i', String(i)), t, v);
    batch.push([i, t, v]);
  }
  try { app.commit(); committed.push(...batch); } catch (e) { error = { code: e.code, message: e.message }; }
}
// Still full: a second attempt of the same size fails the same way.
let second;
const app = head.appender();
for (let i = 0; i < 50; i++) app.append(0, Labels.fromPairs('__name__', 'm', 'i', String(i)), 1e12, i);
try { app.commit(); } catch (e) { second = e.code; }
process.stdout.write(JSON.stringify({ committed: committed.length, last: committed.at(-1), error, second, failed: wal.writesFailed }));
`,
      );
      // ulimit -f is in 1 KiB blocks in bash; SIGXFSZ ignored so writes fail with EFBIG.
      const out = await run('bash', ['-c', `trap '' XFSZ; ulimit -f 200; exec "${process.execPath}" "${script}" "${dir}"`], work);
      const res = JSON.parse(out) as { committed: number; last: [number, number, number]; error: { code: string; message: string }; second: string; failed: number };
      expect(res.error.code).toBe('io');
      expect(res.error.message).toMatch(/writing the WAL segment .*00000000 failed; the commit was rolled back/);
      expect(res.second).toBe('io');
      expect(res.failed).toBe(2);
      expect(res.committed).toBeGreaterThan(1000);
      // Everything committed is there, nothing else, and no corruption was left behind.
      const { head, stats } = reopen(dir);
      expect(stats.wal.corruptions).toBe(0);
      expect(stats.wal.samples).toBe(res.committed);
      const c = contents(head);
      expect(c['{__name__="m", i="49"}']!.at(-1)![0]).toBe(res.last[1]);
      expect(fs.statSync(join(dir, '00000000')).size).toBeLessThanOrEqual(200 * 1024);
    });
  });
});

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

/** Transpiles storage/ (which imports nothing of ours) to plain JS under `dest` for a child process. */
function transpileStorage(dest: string): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const src = join(root, 'storage');
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  for (const f of walk(src)) {
    const out = ts.transpileModule(fs.readFileSync(f, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const target = join(dest, 'storage', relative(src, f)).replace(/\.ts$/, '.js');
    fs.mkdirSync(dirname(target), { recursive: true });
    fs.writeFileSync(target, out);
  }
  fs.writeFileSync(join(dest, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'));
}
