/**
 * Command-line flags with Prometheus's names, defaults and syntax (kingpin): `--name=value`,
 * `--name value`, `--bool` / `--no-bool`, repeatable flags given several times. A Deployment's
 * args for Prometheus carry over unchanged.
 */

export type FlagKind = 'string' | 'bool' | 'duration' | 'size' | 'int' | 'enum' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  /** Default as Prometheus prints it in --help and /api/v1/status/flags. */
  readonly default: string;
  readonly values?: readonly string[];
}

export const FLAG_SPECS: readonly FlagSpec[] = [
  { name: 'config.file', kind: 'string', default: 'prometheus.yml', help: 'Prometheus configuration file path.' },
  { name: 'web.listen-address', kind: 'string', default: '0.0.0.0:9090', help: 'Address to listen on for UI, API, and telemetry.' },
  { name: 'web.read-timeout', kind: 'duration', default: '5m', help: 'Maximum duration before timing out read of the request, and closing idle connections.' },
  { name: 'web.max-connections', kind: 'int', default: '512', help: 'Maximum number of simultaneous connections across all listeners.' },
  { name: 'web.external-url', kind: 'string', default: '', help: 'The URL under which Prometheus is externally reachable. Used to generate relative and absolute links back to Prometheus itself.' },
  { name: 'web.route-prefix', kind: 'string', default: '', help: 'Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.' },
  { name: 'web.enable-lifecycle', kind: 'bool', default: 'false', help: 'Enable shutdown and reload via HTTP request.' },
  { name: 'web.enable-admin-api', kind: 'bool', default: 'false', help: 'Enable API endpoints for admin control actions.' },
  { name: 'web.enable-remote-write-receiver', kind: 'bool', default: 'false', help: 'Enable API endpoint accepting remote write requests.' },
  { name: 'web.cors.origin', kind: 'string', default: '.*', help: "Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\\.com'" },
  { name: 'web.page-title', kind: 'string', default: 'Prometheus Time Series Collection and Processing Server', help: 'Document title of Prometheus instance.' },
  { name: 'storage.tsdb.path', kind: 'string', default: 'data/', help: 'Base path for metrics storage.' },
  { name: 'storage.tsdb.retention.time', kind: 'duration', default: '15d', help: 'How long to retain samples in storage. If neither this flag nor "storage.tsdb.retention.size" is set, the retention time defaults to 15d.' },
  { name: 'storage.tsdb.retention.size', kind: 'size', default: '0B', help: 'Maximum number of bytes that can be stored for blocks. A unit is required, supported units: B, KB, MB, GB, TB, PB, EB. Ex: "512MB".' },
  { name: 'storage.tsdb.no-lockfile', kind: 'bool', default: 'false', help: 'Do not create lockfile in data directory.' },
  { name: 'storage.tsdb.allow-overlapping-compaction', kind: 'bool', default: 'true', help: 'Allow compaction of overlapping blocks.' },
  { name: 'storage.remote.flush-deadline', kind: 'duration', default: '1m', help: 'How long to wait flushing sample on shutdown or config reload.' },
  { name: 'storage.remote.read-sample-limit', kind: 'int', default: '50000000', help: 'Maximum overall number of samples to return via the remote read interface, in a single query. 0 means no limit.' },
  { name: 'rules.alert.for-outage-tolerance', kind: 'duration', default: '1h', help: "Max time to tolerate prometheus outage for restoring \"for\" state of alert." },
  { name: 'rules.alert.for-grace-period', kind: 'duration', default: '10m', help: "Minimum duration between alert and restored \"for\" state. This is maintained only for alerts with configured \"for\" time greater than grace period." },
  { name: 'rules.alert.resend-delay', kind: 'duration', default: '1m', help: 'Minimum amount of time to wait before resending an alert to Alertmanager.' },
  { name: 'alertmanager.notification-queue-capacity', kind: 'int', default: '10000', help: 'The capacity of the queue for pending Alertmanager notifications.' },
  { name: 'query.lookback-delta', kind: 'duration', default: '5m', help: 'The maximum lookback duration for retrieving metrics during expression evaluations and federation.' },
  { name: 'query.timeout', kind: 'duration', default: '2m', help: 'Maximum time a query may take before being aborted.' },
  { name: 'query.max-concurrency', kind: 'int', default: '20', help: 'Maximum number of queries executed concurrently.' },
  { name: 'query.max-samples', kind: 'int', default: '50000000', help: 'Maximum number of samples a single query can load into memory. Note that queries will fail if they try to load more samples than this into memory, so this also limits the number of samples a query can return.' },
  { name: 'enable-feature', kind: 'list', default: '', help: 'Comma separated feature names to enable. Accepted for compatibility; features Sextant does not have are logged and ignored.' },
  { name: 'log.level', kind: 'enum', default: 'info', values: ['debug', 'info', 'warn', 'error'], help: 'Only log messages with the given severity or above. One of: [debug, info, warn, error]' },
  { name: 'log.format', kind: 'enum', default: 'logfmt', values: ['logfmt', 'json'], help: 'Output format of log messages. One of: [logfmt, json]' },
];

const SPEC_BY_NAME = new Map(FLAG_SPECS.map((s) => [s.name, s]));

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** Parsed flags: raw strings by name (for /api/v1/status/flags) plus which were set explicitly. */
export interface ParsedFlags {
  /** Every flag's value as a string (defaults filled in). Lists are comma-joined. */
  readonly values: ReadonlyMap<string, string>;
  readonly explicit: ReadonlySet<string>;
  readonly help: boolean;
  readonly version: boolean;
  /** Positional arguments (subcommand and its arguments). */
  readonly args: readonly string[];
}

/** Parses argv (without node and script). Throws {@link FlagError} naming the bad flag. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const s of FLAG_SPECS) values.set(s.name, s.default);
  const explicit = new Set<string>();
  const args: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    if (a === '-h' || a === '--help' || a === '--help-long') {
      help = true;
      continue;
    }
    if (a === '--version') {
      version = true;
      continue;
    }
    if (!a.startsWith('--')) throw new FlagError(`unknown short flag '${a}'`);
    const eq = a.indexOf('=');
    let name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    let spec = SPEC_BY_NAME.get(name);
    if (!spec && name.startsWith('no-')) {
      const neg = SPEC_BY_NAME.get(name.slice(3));
      if (neg && neg.kind === 'bool' && value === undefined) {
        spec = neg;
        name = neg.name;
        value = 'false';
      }
    }
    if (!spec) throw new FlagError(`unknown long flag '--${name}'`);
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        if (i + 1 >= argv.length) throw new FlagError(`expected argument for flag '--${name}'`);
        value = argv[++i]!;
      }
    }
    validateFlagValue(spec, value);
    explicit.add(name);
    if (spec.kind === 'list') {
      const l = lists.get(name) ?? [];
      l.push(...value.split(',').map((s) => s.trim()).filter((s) => s !== ''));
      lists.set(name, l);
      values.set(name, l.join(','));
    } else {
      values.set(name, value);
    }
  }
  return { values, explicit, help, version, args };
}

function validateFlagValue(spec: FlagSpec, value: string): void {
  const bad = (why: string): never => {
    throw new FlagError(`invalid value "${value}" for flag '--${spec.name}': ${why}`);
  };
  switch (spec.kind) {
    case 'bool':
      if (!['true', 'false'].includes(value)) bad('expected true or false');
      break;
    case 'duration':
      try {
        parseDurationFlag(value);
      } catch (e) {
        bad((e as Error).message);
      }
      break;
    case 'size':
      try {
        parseSizeFlag(value);
      } catch (e) {
        bad((e as Error).message);
      }
      break;
    case 'int':
      if (!/^-?\d+$/.test(value)) bad('expected an integer');
      break;
    case 'enum':
      if (!spec.values!.includes(value)) bad(`must be one of [${spec.values!.join(', ')}]`);
      break;
    default:
      break;
  }
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** Prometheus's model.ParseDuration: `1h30m`, `15d`, `0`; units ms s m h d w y, in descending order. */
export function parseDurationFlag(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  let total = 0;
  let pos = 0;
  let lastUnit = Infinity;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`not a valid duration string: "${s}"`);
    const unit = DURATION_UNITS[m[2]!]!;
    if (unit >= lastUnit) throw new Error(`not a valid duration string: "${s}"`);
    lastUnit = unit;
    total += Number(m[1]) * unit;
    pos = re.lastIndex;
  }
  if (s.length === 0) throw new Error('empty duration string');
  return total;
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  PB: 1024 ** 5,
  EB: 1024 ** 6,
};

/** Prometheus's units.ParseBase2Bytes: `512MB`, `1GB`, `0B` (1KB = 1024 B). */
export function parseSizeFlag(s: string): number {
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]?B)$/i.exec(s);
  if (!m) throw new Error(`invalid size "${s}": a unit is required (B, KB, MB, GB, TB, PB, EB)`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!);
}

/** Usage text in the style of Prometheus's --help. */
export function usage(prog: string): string {
  const lines = [
    `usage: ${prog} [<flags>] [<command> <args>...]`,
    '',
    'Sextant: a Prometheus-compatible monitoring server.',
    '',
    'Commands:',
    '  check config <file>...     Check if the config files are valid or not.',
    '  promqltest <file>...       Run PromQL test scripts (promqltest format).',
    '',
    'Flags:',
    '  -h, --help                 Show context-sensitive help.',
    '      --version              Show application version.',
  ];
  for (const s of FLAG_SPECS) {
    const arg = s.kind === 'bool' ? `--[no-]${s.name}` : `--${s.name}=${s.kind === 'list' ? '<name>' : '<' + s.kind + '>'}`;
    const def = s.kind !== 'bool' && s.default !== '' ? ` Default: ${s.default}` : '';
    lines.push(`      ${arg}`, `          ${s.help}${def}`);
  }
  return lines.join('\n') + '\n';
}
