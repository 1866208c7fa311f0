/**
 * `io.prometheus.client` (metrics.proto) as a protobufjs schema defined in code, used to encode
 * /federate responses and by tests to build payloads. Decoding on the scrape path does not go
 * through protobufjs: {@link ProtobufParser} in protobuf.ts reads the wire format directly.
 */

import protobuf from 'protobufjs';

/** Field numbers of metrics.proto (client_model), shared with the hand-written reader. */
export const MetricTypeEnum = {
  COUNTER: 0,
  GAUGE: 1,
  SUMMARY: 2,
  UNTYPED: 3,
  HISTOGRAM: 4,
  GAUGE_HISTOGRAM: 5,
} as const;

const schema: protobuf.INamespace = {
  nested: {
    io: {
      nested: {
        prometheus: {
          nested: {
            client: {
              nested: {
                MetricType: { values: { ...MetricTypeEnum } },
                LabelPair: {
                  fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
                },
                Gauge: { fields: { value: { type: 'double', id: 1 } } },
                Counter: {
                  fields: {
                    value: { type: 'double', id: 1 },
                    exemplar: { type: 'Exemplar', id: 2 },
                    createdTimestamp: { type: 'Timestamp', id: 3 },
                  },
                },
                Quantile: {
                  fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } },
                },
                Summary: {
                  fields: {
                    sampleCount: { type: 'uint64', id: 1 },
                    sampleSum: { type: 'double', id: 2 },
                    quantile: { rule: 'repeated', type: 'Quantile', id: 3 },
                    createdTimestamp: { type: 'Timestamp', id: 4 },
                  },
                },
                Untyped: { fields: { value: { type: 'double', id: 1 } } },
                Histogram: {
                  fields: {
                    sampleCount: { type: 'uint64', id: 1 },
                    sampleCountFloat: { type: 'double', id: 4 },
                    sampleSum: { type: 'double', id: 2 },
                    bucket: { rule: 'repeated', type: 'Bucket', id: 3 },
                    createdTimestamp: { type: 'Timestamp', id: 15 },
                    schema: { type: 'sint32', id: 5 },
                    zeroThreshold: { type: 'double', id: 6 },
                    zeroCount: { type: 'uint64', id: 7 },
                    zeroCountFloat: { type: 'double', id: 8 },
                    negativeSpan: { rule: 'repeated', type: 'BucketSpan', id: 9 },
                    negativeDelta: { rule: 'repeated', type: 'sint64', id: 10 },
                    negativeCount: { rule: 'repeated', type: 'double', id: 11 },
                    positiveSpan: { rule: 'repeated', type: 'BucketSpan', id: 12 },
                    positiveDelta: { rule: 'repeated', type: 'sint64', id: 13 },
                    positiveCount: { rule: 'repeated', type: 'double', id: 14 },
                    exemplars: { rule: 'repeated', type: 'Exemplar', id: 16 },
                  },
                },
                Bucket: {
                  fields: {
                    cumulativeCount: { type: 'uint64', id: 1 },
                    cumulativeCountFloat: { type: 'double', id: 4 },
                    upperBound: { type: 'double', id: 2 },
                    exemplar: { type: 'Exemplar', id: 3 },
                  },
                },
                BucketSpan: {
                  fields: { offset: { type: 'sint32', id: 1 }, length: { type: 'uint32', id: 2 } },
                },
                Exemplar: {
                  fields: {
                    label: { rule: 'repeated', type: 'LabelPair', id: 1 },
                    value: { type: 'double', id: 2 },
                    timestamp: { type: 'Timestamp', id: 3 },
                  },
                },
                Timestamp: {
                  fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
                },
                Metric: {
                  fields: {
                    label: { rule: 'repeated', type: 'LabelPair', id: 1 },
                    gauge: { type: 'Gauge', id: 2 },
                    counter: { type: 'Counter', id: 3 },
                    summary: { type: 'Summary', id: 4 },
                    untyped: { type: 'Untyped', id: 5 },
                    histogram: { type: 'Histogram', id: 7 },
                    timestampMs: { type: 'int64', id: 6 },
                  },
                },
                MetricFamily: {
                  fields: {
                    name: { type: 'string', id: 1 },
                    help: { type: 'string', id: 2 },
                    type: { type: 'MetricType', id: 3 },
                    metric: { rule: 'repeated', type: 'Metric', id: 4 },
                    unit: { type: 'string', id: 5 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** The schema root; `MetricFamilyType` is `io.prometheus.client.MetricFamily`. */
export const protoRoot = protobuf.Root.fromJSON(schema);
export const MetricFamilyType = protoRoot.lookupType('io.prometheus.client.MetricFamily');
