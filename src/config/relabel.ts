/** Parsing and validation of `<relabel_config>` entries, with Prometheus's checks and messages. */
import { compileRegex, isLegacyLabelName, isValidLabelName } from '../../storage/index.js';
import type { RelabelAction, RelabelConfig } from './types.js';
import { MapReader, type Item, type Source } from './yaml.js';

export const RELABEL_ACTIONS: readonly RelabelAction[] = Object.freeze([
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
]);

/** Prometheus's relabel defaults. */
export const DEFAULT_RELABEL_CONFIG: RelabelConfig = Object.freeze({
  sourceLabels: Object.freeze([]) as readonly string[],
  separator: ';',
  regex: '(.*)',
  modulus: 0,
  targetLabel: '',
  replacement: '$1',
  action: 'replace',
});

const RELABEL_KEYS = ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'] as const;

export type NameScheme = 'utf8' | 'legacy';

function validName(name: string, scheme: NameScheme): boolean {
  return scheme === 'legacy' ? isLegacyLabelName(name) : isValidLabelName(name);
}

/** `${1}`, `$name` … anywhere in a template. */
function hasTemplateVar(s: string): boolean {
  return /\$(?:\{\w+\}|\w+)/.test(s);
}

/** 2.x's check for a templated target_label under legacy names. */
const LEGACY_RELABEL_TARGET = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

/**
 * Checks a relabel config as Prometheus's relabel.Config.Validate does; returns the message of
 * the first problem, or undefined.
 */
export function checkRelabelConfig(c: RelabelConfig, scheme: NameScheme = 'utf8'): string | undefined {
  const a = c.action;
  const d = DEFAULT_RELABEL_CONFIG;
  if (a === 'hashmod' && c.modulus === 0) return 'relabel configuration for hashmod requires non-zero modulus';
  if ((a === 'replace' || a === 'hashmod' || a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal') && c.targetLabel === '') {
    return `relabel configuration for ${a} action requires 'target_label' value`;
  }
  if (a === 'replace') {
    const ok = hasTemplateVar(c.targetLabel)
      ? scheme === 'legacy' ? LEGACY_RELABEL_TARGET.test(c.targetLabel) : validName(c.targetLabel, scheme)
      : validName(c.targetLabel, scheme);
    if (!ok) return `"${c.targetLabel}" is invalid 'target_label' for ${a} action`;
  }
  if ((a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal') && !validName(c.targetLabel, scheme)) {
    return `"${c.targetLabel}" is invalid 'target_label' for ${a} action`;
  }
  if ((a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal') && c.replacement !== d.replacement) {
    return `'replacement' can not be set for ${a} action`;
  }
  if (a === 'labelmap') {
    const ok = scheme === 'legacy' ? LEGACY_RELABEL_TARGET.test(c.replacement) : validName(c.replacement, scheme);
    if (!ok) return `"${c.replacement}" is invalid 'replacement' for ${a} action`;
  }
  if (a === 'hashmod' && !validName(c.targetLabel, scheme)) {
    return `"${c.targetLabel}" is invalid 'target_label' for ${a} action`;
  }
  if (a === 'keepequal' || a === 'dropequal') {
    if (c.regex !== d.regex || c.modulus !== d.modulus || c.separator !== d.separator || c.replacement !== d.replacement) {
      return `${a} action requires only 'source_labels' and \`target_label\`, and no other fields`;
    }
  }
  if (a === 'labeldrop' || a === 'labelkeep') {
    if (c.sourceLabels.length > 0 || c.targetLabel !== d.targetLabel || c.modulus !== d.modulus || c.separator !== d.separator || c.replacement !== d.replacement) {
      return `${a} action requires only 'regex', and no other fields`;
    }
  }
  return undefined;
}

/**
 * Parses one relabel config item: strict keys, defaults, regex compiled (RE2, anchored), then
 * {@link checkRelabelConfig}. `what` names the list in the null-entry error (as Prometheus:
 * "empty or null target relabeling rule in scrape config").
 */
export function parseRelabelConfig(src: Source, item: Item, scheme: NameScheme, nullMessage: string): RelabelConfig {
  if (item.node === null) throw src.error(null, item.path, nullMessage);
  const m = MapReader.item(src, item, 'relabel_config', RELABEL_KEYS);
  const d = DEFAULT_RELABEL_CONFIG;
  const sourceLabels = m.strList('source_labels') ?? [];
  sourceLabels.forEach((n, i) => {
    if (!validName(n, scheme)) {
      throw src.error(m.valueNode('source_labels'), `${m.keyPath('source_labels')}[${i}]`, `"${n}" is not a valid label name`);
    }
  });
  const actionText = m.str('action');
  let action: RelabelAction = d.action;
  if (actionText !== undefined) {
    const lower = actionText.toLowerCase() as RelabelAction;
    if (!RELABEL_ACTIONS.includes(lower)) throw m.fail('action', `unknown relabel action "${actionText}"`);
    action = lower;
  }
  const regex = m.present('regex') ? m.str('regex') ?? '' : d.regex;
  try {
    compileRegex(regex);
  } catch (err) {
    // re2js words it as Go does: "error parsing regexp: missing closing ): `^(?s:a(b)$`".
    const cause = (err as Error).cause;
    throw m.fail('regex', cause instanceof Error ? cause.message : (err as Error).message);
  }
  const c: RelabelConfig = Object.freeze({
    sourceLabels: Object.freeze(sourceLabels),
    separator: m.present('separator') ? m.str('separator') ?? '' : d.separator,
    regex,
    modulus: m.uint('modulus', 0),
    targetLabel: m.str('target_label') ?? '',
    replacement: m.present('replacement') ? m.str('replacement') ?? '' : d.replacement,
    action,
  });
  const problem = checkRelabelConfig(c, scheme);
  if (problem !== undefined) throw src.error(m.node, item.path, problem);
  return c;
}

/** Parses a list of relabel configs under `key` of `m`. */
export function parseRelabelConfigs(m: MapReader, key: string, scheme: NameScheme, nullMessage: string): RelabelConfig[] {
  return m.seq(key, '[]*relabel.Config').map((item) => parseRelabelConfig(m.src, item, scheme, nullMessage));
}
