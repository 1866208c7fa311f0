// The scrape subsystem's public surface.
export {
  ScrapeManager,
  discoveryConfigs,
  type ScrapeManagerOptions,
  type ActiveTargetInfo,
  type DroppedTargetInfo,
  type TargetMetadataInfo,
} from './manager.js';
export { ScrapePool } from './pool.js';
export { ScrapeLoop, ScrapeCache } from './loop.js';
export { Target, populateLabels, formatDuration, parseDuration, type TargetHealth } from './target.js';
export { ScrapeMetrics } from './metrics.js';
export { ScrapeError } from './http.js';
