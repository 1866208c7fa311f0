import { readFileSync } from 'node:fs';

/** The package version (plain semver), read once from package.json next to dist/. */
export const VERSION: string = (() => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sextant' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
})();

/** Build facts for /api/v1/status/buildinfo and prometheus_build_info. */
export const BUILD_INFO = {
  version: VERSION,
  revision: process.env.SEXTANT_REVISION ?? 'unknown',
  branch: process.env.SEXTANT_BRANCH ?? 'main',
  buildUser: 'sextant',
  buildDate: process.env.SEXTANT_BUILD_DATE ?? 'unknown',
  goVersion: `node${process.versions.node}`,
} as const;
