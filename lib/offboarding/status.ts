import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionDoesNotExist,
  ExecutionStatus,
  HistoryEventType,
  paginateGetExecutionHistory,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { AlertDeliveryError, RequestNotFoundError, RequestRejectedError } from '../errors';
import type { Settings } from '../settings';
import { executionArn, requireStateMachine } from './api';
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

/** Events a page of history (GetExecutionHistory takes 0-1000): few, as each can carry 256 KiB of state. */
const HISTORY_PAGE_SIZE = 50;
/** Pages read, newest first, for the latest state and Task output: the first holds both almost always. */
const HISTORY_PAGES = 10;

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
  const execution = await describe(deps.sfn, arn);
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
    const { state, latest } = await latestState(deps.sfn, arn);
    body.phase = PHASE_OF_STATE[state ?? ''] ?? 'starting';
    if (body.phase === 'draining' && latest?.drain) {
      body.drain = {
        podsEvicting: latest.drain.evicting?.length ?? 0,
        podsBlocked: (latest.drain.blocked ?? []).map((p) => `${p.namespace}/${p.name}`),
        deadline: latest.prepare?.drainDeadline,
      };
    }
  } else if (execution.status === ExecutionStatus.SUCCEEDED) {
    Object.assign(body, { phase: 'done', result: withoutAlert(JSON.parse(execution.output ?? '{}')) });
  } else if (execution.error === AlertDeliveryError.errorName) {
    Object.assign(body, undeliveredOutcome(execution.cause));
  } else {
    Object.assign(body, { phase: 'failed', error: execution.error, cause: execution.cause });
  }
  return body;
}

async function describe(sfn: SFNClient, arn: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

/** A result as the team reads it: without the operators' message and the workflow's retry bookkeeping. */
const withoutAlert = ({
  notification: _alert,
  attempt: _attempt,
  retry: _retry,
  nextWaitSeconds: _wait,
  requestIds: _requestIds,
  ...rest
}: Record<string, unknown>) => rest;

/** A run that failed only because its alert could not go out: its cause holds the outcome. */
function undeliveredOutcome(cause: string | undefined): Record<string, unknown> {
  const alert = { alertDelivered: false };
  try {
    const undelivered = JSON.parse(cause ?? '') as {
      message?: string;
      result?: Record<string, unknown>;
      report?: { error?: string; summary?: string };
    };
    if (undelivered.result) {
      return { phase: 'done', result: withoutAlert(undelivered.result), ...alert, warning: undelivered.message };
    }
    if (undelivered.report) {
      return { phase: 'failed', error: undelivered.report.error, cause: undelivered.report.summary, ...alert };
    }
  } catch {
    // a cause this project did not write: report it as it is
  }
  return { phase: 'failed', error: AlertDeliveryError.errorName, cause, ...alert };
}

/** The last state entered and the state data the last Task left, read newest first. */
async function latestState(sfn: SFNClient, arn: string): Promise<{ state?: string; latest?: LatestState }> {
  let state: string | undefined;
  let latest: LatestState | undefined;
  let pages = 0;
  for await (const page of paginateGetExecutionHistory(
    { client: sfn, pageSize: HISTORY_PAGE_SIZE },
    { executionArn: arn, reverseOrder: true },
  )) {
    for (const event of page.events ?? []) {
      if (!state && event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
      if (!latest && event.type === HistoryEventType.TaskStateExited && event.stateExitedEventDetails?.output) {
        latest = JSON.parse(event.stateExitedEventDetails.output) as LatestState;
      }
      if (state && latest) return { state, latest };
    }
    pages += 1;
    if (pages >= HISTORY_PAGES) break;
  }
  return { state, latest };
}
