import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/web/api/errors.js';
import { Params, parseDurationParam, parseGoFloat, parseLimitParam, parseTime, parseTimeParam } from '../../../src/web/api/params.js';

describe('time parameters', () => {
  it.each([
    ['1435781451.781', 1435781451781],
    ['1435781451', 1435781451000],
    ['0', 0],
    ['4', 4000],
    ['1.0005', 1000], // Go: math.Modf leaves 0.00049999…, which rounds down
    ['-1.5', -1500],
    ['1e3', 1_000_000],
    ['2015-07-01T20:10:51.781Z', 1435781451781],
    ['2015-07-01T20:10:51Z', 1435781451000],
    ['2015-07-01T22:10:51.781+02:00', 1435781451781],
    ['2015-07-01T19:10:51.781-01:00', 1435781451781],
  ])('%s → %d ms', (s, ms) => expect(parseTime(s)).toBe(ms));

  it.each(['', 'now', '2015-07-01', '2015-13-01T00:00:00Z', '12:00', '1h'])('%j is rejected with the parameter named', (s) => {
    expect(parseTime(s)).toBeUndefined();
    try {
      parseTimeParam(s, 'start');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).errorType).toBe('bad_data');
      expect((e as ApiError).status).toBe(400);
      expect((e as ApiError).message).toBe(`invalid parameter "start": cannot parse "${s}" to a valid timestamp`);
    }
  });
});

describe('duration parameters', () => {
  it.each([
    ['15', 15_000],
    ['0.5', 500],
    ['1m30s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
  ])('%s → %d ms', (s, ms) => expect(parseDurationParam(s, 'step')).toBe(ms));

  it.each(['x', '5 m', '1e30', '30s1m'])('%j is rejected', (s) => {
    expect(() => parseDurationParam(s, 'step')).toThrow(/invalid parameter "step": cannot parse/);
  });
});

describe('Go float syntax', () => {
  it.each([
    ['1', 1],
    ['-2.5e3', -2500],
    ['.5', 0.5],
    ['5.', 5],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['NaN', NaN],
    ['0x10', 16],
  ])('%s', (s, v) => expect(parseGoFloat(s)).toBe(v));
  it.each(['', '1_000', '1.2.3', 'e5', '--1', ' 1'])('%j is not a float', (s) => expect(parseGoFloat(s)).toBeUndefined());
});

describe('merged parameters', () => {
  it('merges URL and form body, body values first, as Go r.Form, and keeps every match[]', () => {
    // As Go's r.Form: body values come first and win for single-valued parameters.
    const p = Params.fromRequest({ query: 'ignored', 'match[]': ['a', 'b'] }, { query: 'up', 'match[]': 'c', time: '4' });
    expect(p.get('query')).toBe('up');
    expect(p.get('time')).toBe('4');
    expect(p.getAll('match[]')).toEqual(['c', 'a', 'b']);
    expect(p.has('step')).toBe(false);
  });

  it('limit: 0 and absent mean no limit, negatives and junk are bad data', () => {
    expect(parseLimitParam(undefined)).toBe(0);
    expect(parseLimitParam('0')).toBe(0);
    expect(parseLimitParam('40000')).toBe(40000);
    expect(() => parseLimitParam('-1')).toThrow('limit must be non-negative');
    expect(() => parseLimitParam('ten')).toThrow('invalid parameter "limit"');
  });
});
