/** Valid configs, accepted by Sextant; `promtool: true` = Prometheus 2.42's promtool accepts them too. */
export interface ValidCase {
  readonly name: string;
  readonly yaml: string;
  readonly promtool: true | string;
}

export const VALID: readonly ValidCase[] = [
  { name: 'empty file', yaml: '', promtool: true },
  { name: 'empty global', yaml: 'global:\n', promtool: true },
  {
    name: 'the documentation example shape',
    yaml: `global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels: {monitor: codelab, foo: bar}
rule_files: ['first.rules', 'my/*.rules']
scrape_configs:
  - job_name: prometheus
    honor_labels: true
    file_sd_configs:
      - files: ['foo/*.slow.json', 'foo/*.slow.yml', 'single/file.yml']
        refresh_interval: 10m
      - files: ['bar/*.yaml']
    static_configs:
      - targets: ['localhost:9090', 'localhost:9191']
        labels: {my: label, your: label}
    relabel_configs:
      - source_labels: [job, __meta_dns_name]
        regex: (.*)some-[regex]
        target_label: job
        replacement: foo-\${1}
      - source_labels: [abc]
        target_label: cde
      - replacement: static
        target_label: abc
      - regex:
        replacement: static
        target_label: abc
      - source_labels: [foo]
        target_label: abc
        action: keepequal
      - source_labels: [foo]
        target_label: abc
        action: dropequal
    authorization: {credentials_file: valid_token_file}
    tls_config: {min_version: TLS10}
  - job_name: service-x
    basic_auth: {username: admin_name, password: mysecret}
    scrape_interval: 50s
    scrape_timeout: 5s
    body_size_limit: 10MB
    sample_limit: 1000
    target_limit: 35
    label_limit: 35
    label_name_length_limit: 210
    label_value_length_limit: 210
    metrics_path: /my_path
    scheme: https
    static_configs: [{targets: ['a:1']}]
    relabel_configs:
      - source_labels: [job]
        regex: (.*)some-[regex]
        separator: ;
        action: drop
      - source_labels: [__address__]
        modulus: 8
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: 1
        action: keep
      - action: labelmap
        regex: 1
      - action: labeldrop
        regex: d
      - action: labelkeep
        regex: k
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: expensive_metric.*
        action: drop
  - job_name: service-y
    params: {module: [http_2xx], target: [a, b]}
    bearer_token: secret-token
    proxy_url: http://proxy.example.com:3128
    follow_redirects: false
    enable_http2: false
    oauth2:
    tls_config:
      ca_file: /etc/ca.pem
      cert_file: /etc/c.pem
      key_file: /etc/k.pem
      server_name: example.com
      insecure_skip_verify: true
remote_write:
  - url: http://remote1/push
    name: drop_expensive
    write_relabel_configs:
      - source_labels: [__name__]
        regex: expensive.*
        action: drop
    oauth2:
      client_id: "123"
      client_secret: "456"
      token_url: "http://remote1/auth"
  - url: http://remote2/push
    headers: {name: value}
    queue_config: {capacity: 2500, max_shards: 200, batch_send_deadline: 5s, min_backoff: 30ms}
    metadata_config: {send: false}
remote_read:
  - url: http://remote1/read
    read_recent: true
    name: default
alerting:
  alertmanagers:
    - scheme: https
      static_configs: [{targets: ['1.2.3.4:9093', '1.2.3.5:9093']}]
      path_prefix: /am
      timeout: 5s
`,
    promtool: true,
  },
  {
    name: 'relabel recipes with URLs in targets are fine when relabeled',
    yaml: `scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params: {module: [http_2xx]}
    static_configs: [{targets: ['http://prometheus.io', 'https://prometheus.io/x']}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '127.0.0.1:9115'}
`,
    promtool: true,
  },
  {
    name: 'booleans in YAML 1.1 spelling, anchors and merge keys',
    yaml: `scrape_configs:
  - job_name: a
    <<: &defaults
      scrape_interval: 30s
      honor_labels: yes
  - job_name: b
    <<: *defaults
    honor_labels: no
`,
    promtool: true,
  },
  {
    name: 'durations in every unit',
    yaml: `global:\n  scrape_interval: 1h30m\n  evaluation_interval: 1d\nscrape_configs:\n  - {job_name: a, scrape_interval: 1y, scrape_timeout: 2w}\n  - {job_name: b, scrape_interval: 1500ms, scrape_timeout: 0}\n`,
    promtool: true,
  },
  {
    name: '3.x-only fields',
    yaml: `global:
  scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0, PrometheusText1.0.0]
  metric_name_validation_scheme: utf8
  rule_query_offset: 1m
scrape_configs:
  - job_name: a
    fallback_scrape_protocol: PrometheusText0.0.4
    track_timestamps_staleness: true
    enable_compression: false
    http_headers:
      X-Team: {values: [a, b], secrets: [s]}
    scrape_protocols: [PrometheusText0.0.4]
    proxy_url: http://proxy:3128
    no_proxy: localhost
    static_configs: [{targets: ['a:1']}]
`,
    promtool: '2.42 does not know PrometheusText1.0.0, metric_name_validation_scheme, fallback_scrape_protocol, http_headers, per-job scrape_protocols or no_proxy',
  },
];
