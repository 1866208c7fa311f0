// The discovery subsystem's public surface.
export type { Discoverer, TargetGroup, LabelSet, DiscoveryLogger } from './types.js';
