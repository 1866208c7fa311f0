/**
 * The exposition subsystem's public surface: pull parsers for scrape bodies, content
 * negotiation, and the writers behind /federate. Other folders import from here only.
 *
 * Choices where Prometheus 3.5 is the reference:
 * - OpenMetrics `_created` lines are ordinary series by default, as Prometheus 3.5 stores them
 *   unless `--enable-feature=created-timestamp-zero-ingestion` (which makes its parser skip them
 *   and report created timestamps instead): `skipCreatedSeries` is that mode here.
 * - OpenMetrics suffix rules (`_total` on counter samples, samples belonging to the declared
 *   family) are not enforced, like Prometheus's parser: exposers that break them (python's
 *   client re-exposing text families, for one) still scrape. Unit suffixes, `# EOF`, types and
 *   the grammar are enforced.
 * - `le` (histogram) and `quantile` (summary) values are rewritten in Prometheus's float format
 *   in all three formats (`1` → `1.0`, `1e6` → `1e+06`); gauge histograms keep theirs in text.
 * - Protobuf: classic histograms and summaries expand as Prometheus does (`_count`, `_sum`,
 *   then buckets/quantiles, `+Inf` added when missing); native-only histograms are skipped.
 * - Values: Go's ParseFloat minus `p`/`_` (so no hex floats), `NaN`/`Inf` spellings as Go.
 */
export { ExpositionError, type MetricParser, type MetricType, type EntryKind, type Exemplar } from './types.js';
export { TextParser, PromTextParser, OpenMetricsParser, MAX_LABELS_PER_SERIES, type TextParserOptions } from './text.js';
export { ProtobufParser } from './protobuf.js';
export {
  acceptHeader,
  parserFor,
  parserForProtocol,
  parseMediaType,
  ContentTypeError,
  SCRAPE_PROTOCOL_HEADERS,
  type EscapingScheme,
  type MediaType,
  type ParserChoice,
  type ParserForOptions,
} from './negotiate.js';
export {
  TextWriter,
  ProtobufWriter,
  formatSeriesLine,
  escapeLabelValue,
  escapeHelp,
  TEXT_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
} from './writer.js';
export { formatGoFloat, formatOpenMetricsFloat } from './floats.js';
export { isSeriesPartOfFamily } from './family.js';
export { protoRoot, MetricFamilyType } from './proto.js';
