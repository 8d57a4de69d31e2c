import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../clock';
import type { Settings } from '../settings';
import { lines, type Notification, snsSubject } from '../notifications';
import type { OnboardingRequest } from './request';
import type { OnboardingState } from './state';
import { afterTry, type CleanupAction, type EarlierTry, type Leftover, leftoverLines, tidyRequest } from './tidy';

export interface OnboardingSummary {
  /** `joined-cleanup-failed`: Finish could not run at all (the workflow's last-resort summary). */
  outcome: 'joined' | 'joined-not-ready' | 'joined-cleanup-failed';
  /** Set with joined-cleanup-failed: the Node's phase when it was seen, and Finish's error. */
  nodePhase?: string;
  finishError?: string;
  requestId: string;
  cluster: string;
  nodeName: string;
  instanceId: string;
  ipAddress: string;
  platform?: string;
  /** Seconds spent in each phase (not with joined-cleanup-failed: only Finish computes them). */
  timings?: {
    preflight: number;
    issueActivation: number;
    renderNodeConfig: number;
    waitingForRegistration: number;
    waitingForNode: number;
    total: number;
  };
  hint?: string;
  /** What the end of the run removed (the activation, the stored code, the lock)... */
  cleanup: CleanupAction[];
  /** ...and what it could not, each with the command that removes it: a warning, not a failure. */
  left: Leftover[];
  notification: Notification;
}

/**
 * One try of Finish: the summary, and whether the workflow waits and tries the cleanup again.
 * One flat object, so an execution started on an earlier version (which reads the summary's
 * fields at the top of Finish's result) still reads it.
 */
export type FinishRun = OnboardingSummary & { attempt: number; retry: boolean; nextWaitSeconds: number };

const seconds = (from?: string, to?: string) =>
  from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)) : 0;

/**
 * Ends a successful onboarding: the single-use activation and its stored code are deleted (the
 * server has registered; nothing else may), the node lock is released, and the summary and the
 * operators' notification are built. The node has joined whatever happens here: what cannot be
 * removed makes it a success with a warning that names what is left, never a failure.
 */
export async function finishOnboarding(
  deps: {
    ssm: SSMClient;
    clock: Clock;
    settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>;
  },
  state: Required<Pick<OnboardingState, 'preflight' | 'activation' | 'registration' | 'node'>> &
    OnboardingState & { finish?: EarlierTry },
  request: OnboardingRequest,
): Promise<FinishRun> {
  const tidied = await tidyRequest(deps, {
    requestId: state.requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
    activationId: state.activation.activationId,
    clusterAccess: state.preflight.clusterAccess,
    mode: 'joined',
  });
  const { attempt, cleanup, left, retry, nextWaitSeconds } = afterTry(state.finish, tidied);

  const finishedAt = deps.clock.now().toISOString();
  const instance = state.registration.instance;
  const instanceId = instance?.instanceId ?? state.node.name ?? '';
  const settledAt = state.node.readyAt ?? finishedAt;
  const timings = {
    preflight: seconds(state.preflight.startedAt, state.preflight.checkedAt),
    issueActivation: seconds(state.preflight.checkedAt, state.activation.issuedAt),
    renderNodeConfig: seconds(state.activation.issuedAt, state.nodeConfig?.renderedAt),
    // From the NodeConfig being ready to SSM's own registration time of the server.
    waitingForRegistration: seconds(state.nodeConfig?.renderedAt ?? state.activation.issuedAt, instance?.registeredAt),
    waitingForNode: seconds(instance?.registeredAt, settledAt),
    total: seconds(state.preflight.startedAt, finishedAt),
  };
  const ready = state.node.phase === 'ready';
  const outcome = ready ? 'joined' : 'joined-not-ready';
  const leftNote = left.length ? `; ${left.length} left` : '';
  const subject = ready
    ? `[${left.length ? 'WARNING' : 'OK'}] ${request.node.name} (${instanceId}) joined ${request.cluster} and is Ready${leftNote}`
    : `[WARNING] ${request.node.name} (${instanceId}) joined ${request.cluster} but is NotReady: no CNI${leftNote}`;
  const message = [
    ready
      ? `Hybrid node ${request.node.name} joined cluster ${request.cluster} and is Ready.`
      : `Hybrid node ${request.node.name} joined cluster ${request.cluster} but is NotReady.`,
    '',
    lines([
      ['Request', state.requestId],
      ['Requested by', state.requester],
      ['Kubernetes Node', instanceId],
      ['IP', request.node.ip],
      ['Platform', instance?.platform],
      ['Condition', ready ? undefined : state.node.condition],
      ['Preflight', `${timings.preflight} s`],
      ['Issuing the activation', `${timings.issueActivation} s`],
      ['Rendering the NodeConfig', `${timings.renderNodeConfig} s`],
      ['Time to register', `${timings.waitingForRegistration} s`],
      ['Time to Node', `${timings.waitingForNode} s`],
      ['Total', `${timings.total} s`],
    ]),
    ...(state.node.hint ? ['', `What to do: ${state.node.hint}`] : []),
    ...(left.length
      ? leftoverLines(left, attempt)
      : ['', 'The activation and its code have been deleted, and the node lock released.']),
  ].join('\n');
  const summary: OnboardingSummary = {
    outcome,
    requestId: state.requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
    instanceId,
    ipAddress: request.node.ip,
    platform: instance?.platform,
    timings,
    hint: state.node.hint,
    cleanup,
    left,
    notification: {
      subject: snsSubject(subject),
      message,
      severity: ready && !left.length ? 'info' : 'warning',
      cluster: request.cluster,
      check: 'onboarding',
    },
  };
  return { ...summary, attempt, retry, nextWaitSeconds };
}
