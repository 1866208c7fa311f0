// Command-line flags with Prometheus's names and defaults.
export { FLAG_SPECS, FlagError, parseFlags, parseDurationFlag, parseSizeFlag, usage, type FlagSpec, type FlagKind, type ParsedFlags } from './flags.js';
