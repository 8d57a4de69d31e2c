import type { LocalRuntime } from './local-runtime';
import type { LambdaFault } from './run-control';
import { type RunEvent, type RunResult, runWorkflow } from './runner';
import type { LocalWorkflow, Output } from './workflows/types';

export const SILENT: Output = { line: () => undefined, note: () => undefined };

/** Runs a workflow on prepared input, with the side steps a person takes while it runs. */
export function runPrepared(
  workflow: LocalWorkflow,
  local: LocalRuntime,
  input: unknown,
  options: {
    out?: Output;
    onEvent?: (event: RunEvent) => void;
    lambdaFaults?: LambdaFault[];
    /** `$$.Execution.Name` (StartExecution's name); a fresh one when absent. */
    executionName?: string;
  } = {},
): Promise<RunResult> {
  return runWorkflow({
    workflow: workflow.name,
    input,
    runtime: local.runtime,
    estate: local.estate,
    alertTopicArn: local.alertTopicArn,
    afterTask: workflow.afterTask?.(local, options.out ?? SILENT, input),
    childRuns: workflow.childRuns?.(local, options.out ?? SILENT, input),
    onEvent: options.onEvent,
    lambdaFaults: options.lambdaFaults,
    executionName: options.executionName,
  });
}

/** Prepares an input file's text and runs it (tests, the benchmark); a rejected input throws. */
export async function prepareAndRun(
  workflow: LocalWorkflow,
  local: LocalRuntime,
  body: string,
  out: Output = SILENT,
  lambdaFaults?: LambdaFault[],
): Promise<{ input: unknown; result: RunResult }> {
  const prepared = await workflow.prepare(body, local);
  if (!prepared.ok) throw new Error(`input rejected: ${prepared.problems.join('; ')}`);
  return { input: prepared.input, result: await runPrepared(workflow, local, prepared.input, { out, lambdaFaults }) };
}
