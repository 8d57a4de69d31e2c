import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../clock';
import { requestParameters, type Settings } from '../settings';
import { deleteActivation } from './activation';
import { releaseNodeLock } from './lock';
import { lines, type Notification, snsSubject } from './messages';
import { deleteParameters } from './parameters';
import type { OnboardingRequest } from './request';
import type { OnboardingState } from './state';

export interface OnboardingSummary {
  outcome: 'joined' | 'joined-not-ready';
  requestId: string;
  cluster: string;
  nodeName: string;
  instanceId: string;
  ipAddress: string;
  platform?: string;
  /** Seconds spent in each phase. */
  timings: {
    preflight: number;
    issueActivation: number;
    renderNodeConfig: number;
    waitingForRegistration: number;
    waitingForNode: number;
    total: number;
  };
  hint?: string;
  notification: Notification;
}

const seconds = (from?: string, to?: string) =>
  from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)) : 0;

/**
 * Ends a successful onboarding: the single-use activation and its stored code are deleted (the
 * server has registered; nothing else may), the node lock is released, and the summary and the
 * operators' notification are built.
 */
export async function finishOnboarding(
  deps: { ssm: SSMClient; clock: Clock; settings: Pick<Settings, 'parameterPrefix'> },
  state: Required<Pick<OnboardingState, 'preflight' | 'activation' | 'registration' | 'node'>> & OnboardingState,
  request: OnboardingRequest,
): Promise<OnboardingSummary> {
  const names = requestParameters(deps.settings, state.requestId);
  await deleteActivation(deps.ssm, state.activation.activationId);
  await deleteParameters(deps.ssm, [names.activationCode, names.nodeConfig]);
  await releaseNodeLock(deps.ssm, state.preflight.lockParameter, state.requestId);

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
  const subject = ready
    ? `[OK] ${request.node.name} (${instanceId}) joined ${request.cluster} and is Ready`
    : `[WARNING] ${request.node.name} (${instanceId}) joined ${request.cluster} but is NotReady: no CNI`;
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
    '',
    'The activation and its code have been deleted.',
  ].join('\n');
  return {
    outcome,
    requestId: state.requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
    instanceId,
    ipAddress: request.node.ip,
    platform: instance?.platform,
    timings,
    hint: state.node.hint,
    notification: {
      subject: snsSubject(subject),
      message,
      severity: ready ? 'info' : 'warning',
      cluster: request.cluster,
      check: 'onboarding',
    },
  };
}
