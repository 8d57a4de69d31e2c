import { type ExecutionEnd, runExecutionsWith } from '#lib/sandbox/services/sfn';
import type { LocalRuntime } from './local-runtime';
import { runPrepared, SILENT } from './local-run';
import { executionEnd, localStateMachines } from './runner';
import { WORKFLOWS } from './workflows/index';
import type { LocalWorkflow } from './workflows/types';

/**
 * Makes the sandbox's Step Functions run the executions StartExecution starts (an API handler's)
 * with the local runner, in this process, as `hybridops run` runs them: the real ASL and handlers,
 * and a person's side steps (the NodeConfig fetched once issued, which starts the simulated
 * server). The execution's history is recorded from the runner's events of its own states (a
 * child execution's are its own). Returns the state machines' ARNs by workflow.
 */
export function runSandboxExecutions(
  local: LocalRuntime,
  workflows: Record<string, LocalWorkflow> = WORKFLOWS,
): Record<string, string> {
  const { estate } = local;
  if (!estate) throw new Error('Executions run locally on the sandbox estate only.');
  const machines = localStateMachines('sandbox', local.runtime.settings.region, estate.seed.account).filter(
    (m) => workflows[m.workflow],
  );
  runExecutionsWith(estate, {
    runs: (arn) => machines.some((m) => m.arn === arn),
    async run({ stateMachineArn, name, input }, step): Promise<ExecutionEnd> {
      const machine = machines.find((m) => m.arn === stateMachineArn);
      const workflow = machine && workflows[machine.workflow];
      if (!workflow) throw new Error(`No workflow runs ${stateMachineArn}.`);
      const result = await runPrepared(workflow, local, input, {
        out: SILENT,
        executionName: name,
        onEvent: (event) => {
          if (event.execution || (event.type !== 'entered' && event.type !== 'exited')) return;
          step({ kind: event.type, state: event.state, stateType: event.stateType ?? 'Pass', data: event.data });
        },
      });
      return executionEnd(result);
    },
  });
  return Object.fromEntries(machines.map((m) => [m.workflow, m.arn]));
}
