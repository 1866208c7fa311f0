// The exposition subsystem's public surface: pull parsers for scrape bodies, content
// negotiation, and the writers behind /federate. Other folders import from here only.
export { ExpositionError, type MetricParser, type MetricType, type EntryKind, type Exemplar } from './types.js';
export { TextParser, PromTextParser, OpenMetricsParser, MAX_LABELS_PER_SERIES, type TextParserOptions } from './text.js';
export { formatGoFloat, formatOpenMetricsFloat } from './floats.js';
