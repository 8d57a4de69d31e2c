import { ExecutionStatus, type SFNClient } from '@aws-sdk/client-sfn';
import { AlertDeliveryError, RequestNotFoundError, RequestRejectedError } from '../errors';
import { describeExecution } from '../executions';
import type { Settings } from '../settings';
import type { RunStore } from '../store';
import { nodeLines, type UpgradeReport } from './report';
import { UPGRADE_ID, type UpgradeInput, type UpgradePlan, upgradeKeys } from './state';
import { requireUpgradeStateMachine, upgradeExecutionArn } from './submit';

/**
 * `GET /upgrades/{upgradeId}`: the upgrade's status and each node's state. The run store holds
 * the plan and each wave's outcomes as the run records them, and the report once it has ended;
 * while it runs, the first wave not recorded is being upgraded and the later ones wait.
 */
export async function getUpgrade(
  deps: { sfn: SFNClient; store: RunStore; settings: Pick<Settings, 'upgradeStateMachineArn'> },
  upgradeId: string,
): Promise<Record<string, unknown>> {
  if (!UPGRADE_ID.test(upgradeId)) {
    throw new RequestRejectedError(`'${upgradeId}' is not an upgrade id (1-63 lower-case letters, digits and -).`);
  }
  const execution = await describeExecution(
    deps.sfn,
    upgradeExecutionArn(requireUpgradeStateMachine(deps.settings), upgradeId),
  );
  if (!execution) {
    throw new RequestNotFoundError(`No upgrade '${upgradeId}' exists.`, {
      fix: 'Use the upgradeId that POST /upgrades returned.',
    });
  }
  const input = JSON.parse(execution.input ?? '{}') as Partial<UpgradeInput>;
  const keys = upgradeKeys(upgradeId);
  const body: Record<string, unknown> = {
    upgradeId,
    status: execution.status,
    cluster: input.request?.cluster,
    kubernetesVersion: input.request?.kubernetesVersion,
    startedAt: execution.startDate?.toISOString(),
    ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
  };
  if (execution.status === ExecutionStatus.FAILED) {
    Object.assign(body, { error: execution.error });
    if (execution.error === AlertDeliveryError.errorName) body.alertDelivered = false;
  }
  const report = await deps.store.getJson<UpgradeReport>(keys.report);
  if (report) {
    return { ...body, phase: 'done', outcome: report.outcome, counts: report.counts, nodes: report.nodes };
  }
  const running = execution.status === ExecutionStatus.RUNNING;
  const plan = await deps.store.getJson<UpgradePlan>(keys.plan);
  if (!plan) return { ...body, phase: running ? 'planning' : 'failed', nodes: [] };
  const nodes = await nodeLines(deps.store, upgradeId, plan, { running });
  const wave = nodes.find((n) => n.state === 'upgrading')?.wave;
  return {
    ...body,
    phase: running ? 'upgrading' : 'failed',
    ...(wave !== undefined ? { wave: `${wave + 1} of ${plan.waveCount}` } : {}),
    nodes,
  };
}
