import { describe, expect, it } from 'vitest';
import { formatSampleValue, formatTimestampSeconds } from '../../../src/web/api/format.js';
import { formatGoFloat } from '../../../src/exposition/index.js';

describe("Go's float formatting", () => {
  // Expected strings are what Go's strconv.FormatFloat(v, 'f', -1, 64) prints.
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [0.1, '0.1'],
    [1e21, '1000000000000000000000'],
    [1.5e21, '1500000000000000000000'],
    [1e-7, '0.0000001'],
    [-1.25e-7, '-0.000000125'],
    [123456789012345680000, '123456789012345680000'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
    [1.7976931348623157e308, '17976931348623157' + '0'.repeat(292)],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('sample value %s → %s', (v, want) => expect(formatSampleValue(v)).toBe(want));

  it.each([
    // As Prometheus 2.42 answers (curl of /api/v1/query?time=…): three fraction digits or none.
    [1435781451781, '1435781451.781'],
    [1435781430780, '1435781430.780'],
    [1435781430100, '1435781430.100'],
    [1000, '1'],
    [0, '0'],
    [-1500, '-1.500'],
    [1, '0.001'],
    [5, '0.005'],
  ])('timestamp %d ms → %s', (ms, want) => expect(formatTimestampSeconds(ms)).toBe(want));

  // strconv.FormatFloat(v, 'g', -1, 64)
  it.each([
    [1e6, '1e+06'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-10, '1.5e-10'],
    [1e100, '1e+100'],
    [-2.5, '-2.5'],
    [0, '0'],
  ])('%%g of %s → %s', (v, want) => expect(formatGoFloat(v)).toBe(want));
});
