// The relabel subsystem's public surface (shared by targets, metrics, remote write and alerts).
export { compileRelabelConfigs, relabel, relabelBuilder, hashmod, RelabelError, type CompiledRelabel } from './relabel.js';
