// The Kubernetes-specific checks of a kubernetes_sd_config and the selector syntax.
import { describe, expect, it } from 'vitest';

import {
  checkKubernetesSDConfig,
  matchLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  type KubernetesSDConfig,
} from '../../../discovery/kubernetes/index.js';
import { sdConfig } from './harness.js';

describe('checkKubernetesSDConfig', () => {
  it.each<{ name: string; cfg: Partial<KubernetesSDConfig>; err: string | undefined }>([
    { name: 'minimal in-cluster pod config', cfg: { role: 'pod' }, err: undefined },
    { name: 'api_server with basic auth', cfg: { role: 'node', apiServer: 'https://k8s.example.com:6443', basicAuth: { username: 'u', password: 'p' } }, err: undefined },
    { name: 'unknown role', cfg: { role: 'deployment' as never }, err: 'unknown Kubernetes SD role "deployment"' },
    { name: 'api_server and kubeconfig', cfg: { role: 'pod', apiServer: 'https://a:6443', kubeconfigFile: '/k' }, err: "cannot use 'kubeconfig_file' and 'api_server' simultaneously" },
    { name: 'kubeconfig with custom http', cfg: { role: 'pod', kubeconfigFile: '/k', bearerToken: 't' }, err: "cannot use a custom HTTP client configuration together with 'kubeconfig_file'" },
    { name: 'custom http without api_server', cfg: { role: 'pod', tlsConfig: { insecureSkipVerify: true } }, err: "to use custom HTTP client configuration please provide the 'api_server' URL explicitly" },
    { name: 'follow_redirects false counts as custom', cfg: { role: 'pod', followRedirects: false }, err: "to use custom HTTP client configuration please provide the 'api_server' URL explicitly" },
    { name: 'own_namespace with api_server', cfg: { role: 'pod', apiServer: 'https://a:6443', namespaces: { names: [], ownNamespace: true } }, err: "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously" },
    { name: 'own_namespace with kubeconfig', cfg: { role: 'pod', kubeconfigFile: '/k', namespaces: { names: [], ownNamespace: true } }, err: "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously" },
    { name: 'bad api_server scheme', cfg: { role: 'pod', apiServer: 'ftp://a' }, err: 'invalid api_server URL "ftp://a": scheme must be http or https' },
    { name: 'endpoints accepts pod/service/endpoints selectors', cfg: { role: 'endpoints', selectors: [{ role: 'pod', label: 'app=web' }, { role: 'service', field: 'metadata.name=web' }, { role: 'endpoints', label: 'x' }] }, err: undefined },
    { name: 'pod accepts node selectors', cfg: { role: 'pod', selectors: [{ role: 'node', label: 'zone in (a,b)' }] }, err: undefined },
    { name: 'duplicated selector role', cfg: { role: 'pod', selectors: [{ role: 'pod', label: 'a=b' }, { role: 'pod', label: 'c=d' }] }, err: 'duplicated selector role: pod' },
    { name: 'selector role not allowed', cfg: { role: 'service', selectors: [{ role: 'pod', label: 'a=b' }] }, err: 'service role supports only service selectors' },
    { name: 'endpointslice selector role list', cfg: { role: 'endpointslice', selectors: [{ role: 'node', label: 'a=b' }] }, err: 'endpointslice role supports only pod, service, endpointslice selectors' },
    { name: 'bad label selector', cfg: { role: 'pod', selectors: [{ role: 'pod', label: 'app in (a,b' }] }, err: 'invalid label selector "app in (a,b" for role pod: expected "," or ")" in the value set of key "app" at position 11' },
    { name: 'bad label key', cfg: { role: 'pod', selectors: [{ role: 'pod', label: '-app=x' }] }, err: expect.stringContaining('invalid label selector "-app=x" for role pod: key "-app"') as unknown as string },
    { name: 'bad field selector', cfg: { role: 'pod', selectors: [{ role: 'pod', field: 'spec.nodeName' }] }, err: 'invalid field selector "spec.nodeName" for role pod: "spec.nodeName" is not of the form field=value or field!=value' },
  ])('$name', ({ cfg, err }) => {
    expect(checkKubernetesSDConfig(sdConfig({ role: 'pod', ...cfg }))).toEqual(err);
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'frontend', 'app.kubernetes.io/version': '3', empty: '' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['app in (api, web)', true],
    ['app notin (api,web)', false],
    ['missing notin (x)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app.kubernetes.io/version>2', true],
    ['app.kubernetes.io/version<3', false],
    ['empty=', true],
    ['missing!=x', true],
  ])('%s → %s', (sel, want) => {
    expect(matchLabelSelector(parseLabelSelector(sel), labels)).toBe(want);
  });

  it.each(['app=', ' app = web , tier ', 'app in ()'])('accepts %s', (sel) => {
    expect(() => parseLabelSelector(sel)).not.toThrow();
  });

  it.each([
    ['app in (a', /expected "," or "\)"/],
    ['=x', /expected a key/],
    ['app>x', /expected an integer/],
    ['a=b c', /expected ","/],
    ['example.com/-bad=1', /name part must be/],
    ['Example.com/ok=1', /prefix part must be a lowercase DNS subdomain/],
    ['k=' + 'v'.repeat(64), /must be empty or 1-63/],
  ])('rejects %s', (sel, re) => {
    expect(() => parseLabelSelector(sel)).toThrow(re);
  });
});

describe('field selectors', () => {
  it('parses =, == and != with escapes', () => {
    expect(parseFieldSelector('metadata.name=web,spec.nodeName!=node-1,status.phase==Running,metadata.namespace=a\\,b')).toEqual([
      { key: 'metadata.name', op: '=', value: 'web' },
      { key: 'spec.nodeName', op: '!=', value: 'node-1' },
      { key: 'status.phase', op: '=', value: 'Running' },
      { key: 'metadata.namespace', op: '=', value: 'a,b' },
    ]);
  });
  it.each([
    ['spec.nodeName', /is not of the form/],
    ['=x', /missing field name/],
    ['a=b\\', /invalid escape sequence/],
    ['a=b\\q', /invalid escape sequence/],
  ])('rejects %s', (sel, re) => {
    expect(() => parseFieldSelector(sel)).toThrow(re);
  });
});
