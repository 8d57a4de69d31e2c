import type { EmfDocument } from '#lib/metrics';

/** One metric of an EMF document, the way CloudWatch files it. */
export interface FiledMetric {
  namespace: string;
  name: string;
  unit: string | undefined;
  dimensions: Record<string, unknown>;
  value: unknown;
}

/** Each document's metrics as `namespace name unit {dimension values} value`. */
export const filed = (documents: EmfDocument[]): FiledMetric[] =>
  documents.flatMap((d) =>
    d._aws.CloudWatchMetrics.flatMap((c) =>
      c.Metrics.map((m) => {
        const dims = c.Dimensions.flat();
        const record = d as Record<string, unknown>;
        const values = Object.fromEntries(dims.map((k) => [k, record[k]]));
        return { namespace: c.Namespace, name: m.Name, unit: m.Unit, dimensions: values, value: record[m.Name] };
      }),
    ),
  );

/** The metrics named `name`, each as its value and its dimensions other than `service`. */
export const valuesOf = (metrics: FiledMetric[], name: string): Array<Record<string, unknown>> =>
  metrics
    .filter((m) => m.name === name)
    .map(({ value, dimensions: { service: _service, ...dims } }) => ({ value, ...dims }));
