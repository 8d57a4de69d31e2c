import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * What operators ask about, as CloudWatch metrics in the embedded metric format (EMF): one
 * namespace, the stage as the `service` dimension, and only bounded dimensions (a phase, an error
 * name, a verdict: never a request id, node name or instance id, each of which would be a metric
 * of its own at USD 0.30 a month; https://aws.amazon.com/cloudwatch/pricing/).
 */
export const METRICS_NAMESPACE = 'EksHybridOps';

/** The metrics this project emits, each with its unit and the only dimensions it may carry. */
export const METRIC_CATALOGUE = {
  OnboardingsStarted: { unit: MetricUnit.Count, dimensions: ['Source'] },
  OnboardingsJoined: { unit: MetricUnit.Count, dimensions: ['Outcome'] },
  OnboardingsFailed: { unit: MetricUnit.Count, dimensions: ['ErrorName'] },
  PhaseDuration: { unit: MetricUnit.Seconds, dimensions: ['Phase'] },
  GpuVerifications: { unit: MetricUnit.Count, dimensions: ['Verdict'] },
  ReconcileDrift: { unit: MetricUnit.Count, dimensions: ['Kind'] },
  ReconcileActions: { unit: MetricUnit.Count, dimensions: ['Kind', 'Action'] },
  SweepFindings: { unit: MetricUnit.Count, dimensions: ['Check', 'Severity'] },
  // CloudWatch has no currency unit (MetricDatum.Unit, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html):
  // these two are USD, unit None.
  CostForecast: { unit: MetricUnit.NoUnit, dimensions: [] },
  CostBudget: { unit: MetricUnit.NoUnit, dimensions: [] },
  CostForecastRatio: { unit: MetricUnit.Percent, dimensions: [] },
  HybridNodes: { unit: MetricUnit.Count, dimensions: ['State'] },
} as const satisfies Record<string, { unit: string; dimensions: readonly string[] }>;
export type MetricName = keyof typeof METRIC_CATALOGUE;
type DimensionOf<N extends MetricName> = (typeof METRIC_CATALOGUE)[N]['dimensions'][number];

/** One value of one metric, with its dimensions (only those the catalogue allows it). */
export interface MetricPoint<N extends MetricName = MetricName> {
  name: N;
  value: number;
  dimensions?: Partial<Record<DimensionOf<N>, string>>;
}

export const point = <N extends MetricName>(
  name: N,
  value: number,
  dimensions?: Partial<Record<DimensionOf<N>, string>>,
): MetricPoint<N> => ({ name, value, ...(dimensions ? { dimensions } : {}) });

/** An EMF document as Powertools serializes it (one per dimension set). */
export type EmfDocument = ReturnType<Metrics['serializeMetrics']>;

// Values that are not a closed set of names (an error name from elsewhere) are cut to this length
// and to CloudWatch's allowed characters, so a stray message cannot become a dimension value.
const MAX_DIMENSION_VALUE = 64;
const boundedValue = (value: string) => value.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, MAX_DIMENSION_VALUE);

/**
 * The EMF documents for `points`, built with Powertools Metrics: one per distinct dimension set
 * (EMF puts all of a document's metrics under its dimensions), `service` the stage, stamped now
 * (a sandbox clock may be far from CloudWatch's 14-day window, and Powertools warns on stdout).
 */
export function emfDocuments(points: MetricPoint[], service: string): EmfDocument[] {
  const groups = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const key = JSON.stringify(Object.entries(p.dimensions ?? {}).sort());
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((group) => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
    for (const [name, value] of Object.entries(group[0]?.dimensions ?? {})) {
      if (typeof value === 'string') metrics.addDimension(name, boundedValue(value));
    }
    for (const p of group) metrics.addMetric(p.name, METRIC_CATALOGUE[p.name].unit, p.value);
    return metrics.serializeMetrics();
  });
}

/** `POST /nodes` or `POST /fleets` started onboardings (a fleet starts one per member). */
export const onboardingsStarted = (source: 'nodes' | 'fleets', count: number): MetricPoint[] =>
  count > 0 ? [point('OnboardingsStarted', count, { Source: source })] : [];
