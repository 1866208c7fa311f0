// File-based service discovery: the public surface.
export { FileDiscoverer, FileSDMetrics, parseTargetGroupFile, FileSDError, type FileSDOptions, type FileDiscovererOptions } from './file.js';
