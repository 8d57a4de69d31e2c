import { type EmfDocument, emfDocuments, type MetricPoint } from '#lib/metrics';
import type { Runtime } from '#lib/runtime';

/**
 * Where a handler's metrics go at the end of its invocation. In Lambda, each EMF document is one
 * line on stdout, which CloudWatch Logs turns into metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
 * a local run installs its own sink (the runner records them with the run), so they never mix
 * with the CLI's output; elsewhere (a unit test calling `run`) they are dropped.
 */
export type MetricsSink = (documents: EmfDocument[]) => void;

const stdoutSink: MetricsSink = (documents) => {
  for (const document of documents) process.stdout.write(`${JSON.stringify(document)}\n`);
};

let installed: MetricsSink | undefined;

/** Installs the sink every handler flushes to (the local runner's); undefined goes back to the default. */
export function installMetricsSink(sink: MetricsSink | undefined): void {
  installed = sink;
}

/** Flushes one invocation's metrics as EMF, the stage as the service. */
export function flushMetrics(points: MetricPoint[], rt: Pick<Runtime, 'settings'>): void {
  if (points.length === 0) return;
  const sink = installed ?? (process.env.AWS_LAMBDA_FUNCTION_NAME ? stdoutSink : undefined);
  sink?.(emfDocuments(points, rt.settings.stage));
}
