import { AsyncLocalStorage } from 'node:async_hooks';
import { type EmfDocument, emfDocuments, type MetricPoint } from '#lib/metrics';
import type { Runtime } from '#lib/runtime';

/**
 * Where a handler's metrics go at the end of its invocation. In Lambda, each EMF document is one
 * line on stdout, which CloudWatch Logs turns into metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
 * a local run gives its handlers its own sink (the runner records them with the run), so they never
 * mix with the CLI's output nor with another run's (`hybridops api serve` runs executions side by
 * side); elsewhere (a unit test calling `run`) they are dropped.
 */
export type MetricsSink = (documents: EmfDocument[]) => void;

const stdoutSink: MetricsSink = (documents) => {
  for (const document of documents) process.stdout.write(`${JSON.stringify(document)}\n`);
};

const runSink = new AsyncLocalStorage<MetricsSink>();

/** Runs `work` with every handler it calls flushing to `sink` (the local runner's, one per run). */
export function withMetricsSink<T>(sink: MetricsSink, work: () => Promise<T>): Promise<T> {
  return runSink.run(sink, work);
}

/** Flushes one invocation's metrics as EMF, the stage as the service. */
export function flushMetrics(points: MetricPoint[], rt: Pick<Runtime, 'settings'>): void {
  if (points.length === 0) return;
  const sink = runSink.getStore() ?? (process.env.AWS_LAMBDA_FUNCTION_NAME ? stdoutSink : undefined);
  sink?.(emfDocuments(points, rt.settings.stage));
}
