import { describe, expect, it } from 'vitest';
import { FlagError, parseDurationFlag, parseFlags, parseSizeFlag, usage } from '../../src/flags/index.js';

describe('parseFlags', () => {
  it('fills Prometheus defaults', () => {
    const f = parseFlags([]);
    expect(f.values.get('web.listen-address')).toBe('0.0.0.0:9090');
    expect(f.values.get('storage.tsdb.retention.time')).toBe('15d');
    expect(f.values.get('storage.tsdb.path')).toBe('data/');
    expect(f.values.get('config.file')).toBe('prometheus.yml');
    expect(f.values.get('log.format')).toBe('logfmt');
    expect(f.values.get('web.enable-lifecycle')).toBe('false');
    expect(f.explicit.size).toBe(0);
  });

  it.each([
    [['--config.file=/etc/prometheus/prometheus.yml'], 'config.file', '/etc/prometheus/prometheus.yml'],
    [['--config.file', 'x.yml'], 'config.file', 'x.yml'],
    [['--web.enable-lifecycle'], 'web.enable-lifecycle', 'true'],
    [['--web.enable-lifecycle', '--no-web.enable-lifecycle'], 'web.enable-lifecycle', 'false'],
    [['--web.enable-lifecycle=false'], 'web.enable-lifecycle', 'false'],
    [['--storage.tsdb.retention.size=512MB'], 'storage.tsdb.retention.size', '512MB'],
    [['--log.level=debug'], 'log.level', 'debug'],
    [['--enable-feature=a,b', '--enable-feature', 'c'], 'enable-feature', 'a,b,c'],
  ])('%j sets %s', (argv, name, value) => {
    const f = parseFlags(argv);
    expect(f.values.get(name)).toBe(value);
    expect(f.explicit.has(name)).toBe(true);
  });

  it('collects positional arguments', () => {
    expect(parseFlags(['check', 'config', 'a.yml']).args).toEqual(['check', 'config', 'a.yml']);
  });

  it.each([
    [['--bogus'], "unknown long flag '--bogus'"],
    [['--no-config.file'], "unknown long flag '--no-config.file'"],
    [['--config.file'], "expected argument for flag '--config.file'"],
    [['--log.level=trace'], 'invalid value "trace" for flag \'--log.level\''],
    [['--log.format=xml'], "must be one of [logfmt, json]"],
    [['--storage.tsdb.retention.time=15x'], 'not a valid duration string'],
    [['--storage.tsdb.retention.size=512'], 'a unit is required'],
    [['--query.max-samples=many'], 'expected an integer'],
    [['-x'], "unknown short flag '-x'"],
  ])('%j is rejected', (argv, msg) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
    expect(() => parseFlags(argv)).toThrow(msg);
  });

  it('recognises --help and --version', () => {
    expect(parseFlags(['--help']).help).toBe(true);
    expect(parseFlags(['-h']).help).toBe(true);
    expect(parseFlags(['--version']).version).toBe(true);
  });

  it('documents every flag in usage', () => {
    const u = usage('sextant');
    expect(u).toContain('--config.file=<string>');
    expect(u).toContain('--[no-]web.enable-lifecycle');
    expect(u).toContain('Default: 15d');
  });
});

describe('durations and sizes', () => {
  it.each([
    ['15d', 15 * 86_400_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2w', 14 * 86_400_000],
    ['1y', 365 * 86_400_000],
    ['0', 0],
  ])('duration %s', (s, ms) => expect(parseDurationFlag(s)).toBe(ms));

  it.each(['', '1', '5m1h', '1.5h', '-1h', 'h'])('bad duration %j', (s) => expect(() => parseDurationFlag(s)).toThrow());

  it.each([
    ['512MB', 512 * 1024 * 1024],
    ['1GB', 1024 ** 3],
    ['0B', 0],
    ['10KB', 10240],
    ['1.5GB', 1.5 * 1024 ** 3],
  ])('size %s', (s, n) => expect(parseSizeFlag(s)).toBe(n));
});
