// The scrape loop's view of its sibling subsystems (one place to adapt if their surface moves).
export { parserFor, acceptHeader, ExpositionError, type MetricParser } from '../exposition/index.js';
export { compileRelabelConfigs, relabel, type CompiledRelabel } from '../relabel/index.js';
