// The exposition subsystem's public surface: pull parsers for scrape bodies, content
// negotiation, and the writers behind /federate. Other folders import from here only.
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
