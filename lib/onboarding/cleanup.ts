import type { SSMClient } from '@aws-sdk/client-ssm';
import type { NodeReaderFactory } from '../kube/types';
import type { Settings } from '../settings';
import { describeCaughtError } from '../caught-error';
import { lines, type Notification, snsSubject } from '../notifications';
import { currentStep, type OnboardingState } from './state';
import { afterTry, type CleanupAction, type EarlierTry, type Leftover, leftoverLines, tidyRequest } from './tidy';

export interface FailureReport {
  requestId: string;
  step: string;
  error: string;
  problem: string;
  fix?: string;
  /** One line for the Fail state's cause and the status API. */
  summary: string;
  cleanup: CleanupAction[];
  /** What is still there, each with the command that removes it. */
  left: Leftover[];
  notification: Notification;
}

/**
 * One try of the cleanup: its report, and whether the workflow waits and tries again. One flat
 * object, so an execution started on an earlier version (which reads the report's fields at the
 * top of CleanUp's result) still reads it.
 */
export type CleanupRun = FailureReport & { attempt: number; retry: boolean; nextWaitSeconds: number };

/**
 * Undoes a failed onboarding so nothing half-done is left: deletes the stored code and NodeConfig
 * and the activations (nothing else may register with them), releases the node lock, and
 * deregisters a managed instance only if it carries this request's tag and never became a
 * Kubernetes Node. Every name comes from the request, so a step whose result never reached the
 * state (preflight took the lock, then its answer was lost) is cleaned up all the same. Each step
 * is tried on its own; the workflow tries again while a failure may pass, and the last report
 * names whatever is left with the command that removes it.
 */
export async function cleanUpOnboarding(
  deps: {
    ssm: SSMClient;
    nodes: NodeReaderFactory;
    settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>;
  },
  state: OnboardingState & { cleanup?: EarlierTry },
): Promise<CleanupRun> {
  const request = (state.request ?? {}) as { cluster?: unknown; node?: { name?: unknown; ip?: unknown } };
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const cluster = text(request.cluster);
  const nodeName = text(request.node?.name);
  const tidied = await tidyRequest(deps, {
    requestId: state.requestId,
    cluster,
    nodeName,
    activationId: state.activation?.activationId,
    clusterAccess: state.preflight?.clusterAccess,
    instanceId: state.registration?.instance?.instanceId,
    mode: 'failed',
  });
  const { attempt, cleanup, left, retry, nextWaitSeconds } = afterTry(state.cleanup, tidied);

  const step = currentStep(state);
  const error = describeCaughtError(state.failure ?? { Error: 'States.Unknown', Cause: 'no error was recorded' });
  const node = nodeName ?? '(unknown node)';
  const message = [
    `Onboarding of ${node} into ${cluster ?? '(unknown cluster)'} failed at step ${step}.`,
    '',
    lines([
      ['Request', state.requestId],
      ['Requested by', state.requester],
      ['Node IP', text(request.node?.ip)],
      ['Failed step', step],
      ['Error', error.name],
      ['What happened', error.problem],
      ['How to fix', error.fix ?? 'See the error above; the request can be submitted again once it is fixed.'],
    ]),
    '',
    'Cleanup:',
    ...(cleanup.length ? cleanup.map((a) => `- ${a.action} ${a.resource}: ${a.outcome}`) : ['- nothing to remove']),
    ...leftoverLines(left, attempt),
  ].join('\n');
  const leftNote = left.length ? `; ${left.length} left` : '';
  return {
    requestId: state.requestId,
    step,
    error: error.name,
    problem: error.problem,
    fix: error.fix,
    summary: `Failed at ${step} with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}${left.length ? ` Left to remove: ${left.map((l) => `${l.resource} (${l.remove})`).join('; ')}.` : ''}`,
    cleanup,
    left,
    notification: {
      subject: snsSubject(`[CRITICAL] ${node} onboarding failed: ${error.name} at ${step}${leftNote}`),
      message,
      severity: 'critical',
      cluster: cluster ?? 'unknown',
      check: 'onboarding',
    },
    attempt,
    retry,
    nextWaitSeconds,
  };
}
