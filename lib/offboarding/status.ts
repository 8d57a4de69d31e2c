import { ExecutionStatus, type SFNClient } from '@aws-sdk/client-sfn';
import { RequestNotFoundError, RequestRejectedError } from '../errors';
import { describeExecution, endedOutcome, executionArn, latestState } from '../executions';
import type { Settings } from '../settings';
import { requireStateMachine } from './api';
import { REQUEST_ID } from './state';

/** What a running offboarding is doing, by the state it last entered (every state but a Fail). */
export const PHASE_OF_STATE: Record<string, string> = {
  CheckInput: 'starting',
  PrepareOffboarding: 'preparing',
  HasNode: 'preparing',
  CordonNode: 'cordoning',
  ShouldDrain: 'cordoning',
  StartDrain: 'draining',
  CountDrainPass: 'draining',
  IsDrainOverdue: 'draining',
  DrainStuck: 'cleaning-up-after-failure',
  DrainNode: 'draining',
  PodsForced: 'draining',
  RecordForcedPods: 'draining',
  IsDrained: 'draining',
  WaitForDrain: 'draining',
  ShouldUninstall: 'uninstalling',
  RunNodeCommand: 'uninstalling',
  WaitForNodeCommand: 'uninstalling',
  CheckNodeCommand: 'uninstalling',
  IsCommandDone: 'uninstalling',
  RemoveNode: 'removing',
  RemoveComplete: 'removing',
  WaitBeforeRemoveRetry: 'removing',
  NotifyOffboarded: 'removing',
  DescribeUndeliveredSuccess: 'removing',
  ShouldUncordon: 'cleaning-up-after-failure',
  UncordonNode: 'cleaning-up-after-failure',
  CleanUpOffboarding: 'cleaning-up-after-failure',
  CleanupComplete: 'cleaning-up-after-failure',
  WaitBeforeCleanupRetry: 'cleaning-up-after-failure',
  DescribeCleanupFailure: 'cleaning-up-after-failure',
  CleanupTriedBefore: 'cleaning-up-after-failure',
  ComposeCleanupFailureAlert: 'cleaning-up-after-failure',
  ComposeCleanupFailureAfterTry: 'cleaning-up-after-failure',
  NotifyFailure: 'cleaning-up-after-failure',
  DescribeUndeliveredFailure: 'cleaning-up-after-failure',
  UndeliveredCause: 'cleaning-up-after-failure',
};

interface LatestState {
  target?: { nodeName?: string; onboardedName?: string };
  prepare?: { nodeName?: string; onboardedName?: string; drainDeadline?: string; uninstall?: { run?: boolean } };
  drain?: { done?: boolean; evicting?: unknown[]; blocked?: Array<{ namespace?: string; name?: string }> };
}

/** `GET /offboardings/{requestId}`: the offboarding's status, phase, and result or error. */
export async function getOffboarding(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'offboardStateMachineArn'> },
  requestId: string,
): Promise<Record<string, unknown>> {
  if (!REQUEST_ID.test(requestId)) {
    throw new RequestRejectedError(`'${requestId}' is not a request id (1-63 lower-case letters, digits and -).`);
  }
  const arn = executionArn(requireStateMachine(deps.settings), requestId);
  const execution = await describeExecution(deps.sfn, arn);
  if (!execution) {
    throw new RequestNotFoundError(`No offboarding request '${requestId}' exists.`, {
      fix: 'Use the requestId that DELETE /nodes/{node} returned.',
    });
  }
  const input = JSON.parse(execution.input ?? '{}') as LatestState;
  const body: Record<string, unknown> = {
    requestId,
    status: execution.status,
    node: input.target?.onboardedName ?? input.target?.nodeName,
    nodeName: input.target?.nodeName,
    startedAt: execution.startDate?.toISOString(),
    stoppedAt: execution.stopDate?.toISOString(),
  };
  if (execution.status === ExecutionStatus.RUNNING) {
    const { state, latest } = await latestState<LatestState>(deps.sfn, arn);
    body.phase = PHASE_OF_STATE[state ?? ''] ?? 'starting';
    if (body.phase === 'draining' && latest?.drain) {
      body.drain = {
        podsEvicting: latest.drain.evicting?.length ?? 0,
        podsBlocked: (latest.drain.blocked ?? []).map((p) => `${p.namespace}/${p.name}`),
        deadline: latest.prepare?.drainDeadline,
      };
    }
  } else {
    // requestIds: what RemoveNode's retries carry, not the team's concern.
    Object.assign(body, endedOutcome(execution, ['requestIds']));
  }
  return body;
}
