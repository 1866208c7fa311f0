import { describe, expect, it } from 'vitest';
import { acceptHeader, ContentTypeError, OpenMetricsParser, parserFor, parseMediaType, PromTextParser, ProtobufParser } from '../../src/exposition/index.js';
import { DEFAULT_SCRAPE_PROTOCOLS } from '../../src/config/types.js';

describe('acceptHeader', () => {
  it('3.x default protocols', () => {
    expect(acceptHeader(['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'])).toBe(
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
        'application/openmetrics-text;version=0.0.1;q=0.5,' +
        'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
        'text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    );
    expect(acceptHeader(DEFAULT_SCRAPE_PROTOCOLS)).toContain('*/*');
  });

  it('protobuf first, escaping scheme, single protocol', () => {
    expect(acceptHeader(['PrometheusProto', 'OpenMetricsText1.0.0'], 'underscores')).toBe(
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
        'application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,*/*;q=0.4',
    );
    expect(acceptHeader(['PrometheusText0.0.4'])).toBe('text/plain;version=0.0.4;q=0.6,*/*;q=0.5');
  });
});

describe('parseMediaType', () => {
  it.each([
    ['text/plain; version=0.0.4; charset=utf-8', { type: 'text/plain', params: { version: '0.0.4', charset: 'utf-8' } }],
    ['Application/OpenMetrics-Text; Version="1.0.0"', { type: 'application/openmetrics-text', params: { version: '1.0.0' } }],
    ['text/plain;', { type: 'text/plain', params: {} }],
    ['text', null],
    ['text/plain; version', null],
    ['text/plain; a=1; a=2', null],
    ['text/plain; a="x', null],
  ])('%s', (ct, want) => {
    expect(parseMediaType(ct)).toEqual(want);
  });
});

describe('parserFor', () => {
  const body = Buffer.from('a 1\n');
  it.each([
    ['text/plain; version=0.0.4; charset=utf-8', PromTextParser, 'PrometheusText0.0.4'],
    ['text/plain; version=1.0.0; escaping=allow-utf-8', PromTextParser, 'PrometheusText1.0.0'],
    ['text/plain', PromTextParser, 'PrometheusText0.0.4'],
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', OpenMetricsParser, 'OpenMetricsText1.0.0'],
    ['application/openmetrics-text; version=0.0.1', OpenMetricsParser, 'OpenMetricsText0.0.1'],
    ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited', ProtobufParser, 'PrometheusProto'],
  ] as const)('%s', (ct, cls, protocol) => {
    const c = parserFor(ct, body);
    expect(c.parser).toBeInstanceOf(cls);
    expect(c.protocol).toBe(protocol);
    expect(c.warning).toBeUndefined();
  });

  it.each([
    [undefined, 'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target'],
    ['', 'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target'],
    ['text/html; charset=utf-8', 'received unsupported Content-Type "text/html; charset=utf-8" and no fallback_scrape_protocol specified for target'],
    ['garbage', 'cannot parse Content-Type "garbage" and no fallback_scrape_protocol for target'],
  ])('%s without fallback fails', (ct, msg) => {
    expect(() => parserFor(ct, body)).toThrow(new ContentTypeError(msg));
  });

  it('fallback_scrape_protocol is used with a warning', () => {
    const a = parserFor('text/html', body, { fallback: 'PrometheusText0.0.4' });
    expect(a.parser).toBeInstanceOf(PromTextParser);
    expect(a.warning).toBe('received unsupported Content-Type "text/html", using fallback_scrape_protocol "PrometheusText0.0.4"');
    const b = parserFor(undefined, body, { fallback: 'OpenMetricsText1.0.0' });
    expect(b.parser).toBeInstanceOf(OpenMetricsParser);
    expect(b.protocol).toBe('OpenMetricsText1.0.0');
    expect(b.warning).toContain('blank Content-Type');
    const c = parserFor('bad;;"', body, { fallback: 'PrometheusProto' });
    expect(c.parser).toBeInstanceOf(ProtobufParser);
    expect(c.warning).toContain('could not parse received Content-Type');
  });
});
