import {
  DeregisterManagedInstanceCommand,
  InvalidInstanceId,
  ListTagsForResourceCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { AwsTransientError } from '../errors';
import type { KubeNode, NodeReaderFactory } from '../kube/types';
import { requestParameters, type Settings } from '../settings';
import { deleteActivation, deleteRequestActivations } from './activation';
import { releaseNodeLock } from './lock';
import { describeCaughtError, lines, type Notification, snsSubject } from './messages';
import { deleteParameters } from './parameters';
import { instancesOfActivation } from './registration';
import { currentStep, type OnboardingState } from './state';
import { TAG_KEYS } from './tags';

export interface CleanupAction {
  action: 'delete-activation' | 'delete-parameters' | 'deregister-instance' | 'keep-instance' | 'release-lock';
  resource: string;
  outcome: string;
}

export interface FailureReport {
  requestId: string;
  step: string;
  error: string;
  problem: string;
  fix?: string;
  /** One line for the Fail state's cause and the status API. */
  summary: string;
  cleanup: CleanupAction[];
  notification: Notification;
}

/**
 * Undoes a failed onboarding so nothing half-done is left: deletes the activation (nothing else
 * may register with it) and the stored code and NodeConfig, deregisters a managed instance only
 * if it registered with this request's activation, carries this request's tag and never became a
 * Kubernetes Node, and releases the node lock. Every step is idempotent, so a retried cleanup is
 * harmless. Returns what it did and the operators' alert.
 */
export async function cleanupFailedOnboarding(
  deps: { ssm: SSMClient; nodes: NodeReaderFactory; settings: Pick<Settings, 'parameterPrefix'> },
  state: OnboardingState,
): Promise<FailureReport> {
  const actions: CleanupAction[] = [];
  const names = requestParameters(deps.settings, state.requestId);

  // Secrets and the lock first: they must go even if reading Nodes below keeps failing.
  const deleted = await deleteParameters(deps.ssm, [names.activationCode, names.nodeConfig]);
  actions.push({
    action: 'delete-parameters',
    resource: names.base,
    outcome: deleted.length ? `deleted ${deleted.length}` : 'none existed',
  });
  if (state.preflight) {
    const released = await releaseNodeLock(deps.ssm, state.preflight.lockParameter, state.requestId);
    actions.push({
      action: 'release-lock',
      resource: state.preflight.lockParameter,
      outcome: released ? 'released' : 'not held',
    });
  }
  if (state.activation) {
    const outcome = await deleteActivation(deps.ssm, state.activation.activationId);
    actions.push({ action: 'delete-activation', resource: state.activation.activationId, outcome });
    actions.push(...(await deregisterStrayInstances(deps, state, state.activation.activationId)));
  } else if (state.preflight) {
    // Failed in IssueActivation: an attempt may have created an activation the state never saw.
    const nodeName = (state.request as { node?: { name?: string } } | undefined)?.node?.name;
    for (const id of nodeName ? await deleteRequestActivations(deps.ssm, nodeName, state.requestId) : []) {
      actions.push({ action: 'delete-activation', resource: id, outcome: 'deleted (not recorded in the state)' });
    }
  }

  const step = currentStep(state);
  const error = describeCaughtError(state.failure ?? { Error: 'States.Unknown', Cause: 'no error was recorded' });
  const request = (state.request ?? {}) as { cluster?: string; node?: { name?: string; ip?: string } };
  const nodeName = request.node?.name ?? '(unknown node)';
  const cluster = request.cluster ?? '(unknown cluster)';
  const message = [
    `Onboarding of ${nodeName} into ${cluster} failed at step ${step}.`,
    '',
    lines([
      ['Request', state.requestId],
      ['Requested by', state.requester],
      ['Node IP', request.node?.ip],
      ['Failed step', step],
      ['Error', error.name],
      ['What happened', error.problem],
      ['How to fix', error.fix ?? 'See the error above; the request can be submitted again once it is fixed.'],
    ]),
    '',
    'Cleanup:',
    ...actions.map((a) => `- ${a.action} ${a.resource}: ${a.outcome}`),
  ].join('\n');
  return {
    requestId: state.requestId,
    step,
    error: error.name,
    problem: error.problem,
    fix: error.fix,
    summary: `Failed at ${step} with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}`,
    cleanup: actions,
    notification: {
      subject: snsSubject(`[CRITICAL] ${nodeName} onboarding failed: ${error.name} at ${step}`),
      message,
      severity: 'critical',
      cluster,
      check: 'onboarding',
    },
  };
}

/**
 * Finds instances that registered with this activation, including one that registered after the
 * last poll, and deregisters those that never became a Node and carry this request's tag.
 */
async function deregisterStrayInstances(
  deps: { ssm: SSMClient; nodes: NodeReaderFactory },
  state: OnboardingState,
  activationId: string,
): Promise<CleanupAction[]> {
  const actions: CleanupAction[] = [];
  for (const info of await instancesOfActivation(deps.ssm, activationId)) {
    const instanceId = info.InstanceId;
    if (!instanceId) continue;
    let node: KubeNode | undefined;
    try {
      node = state.preflight ? await deps.nodes(state.preflight.clusterAccess).getNode(instanceId) : undefined;
    } catch (error) {
      // Transient: let the workflow retry. Anything else (no RBAC, say) will not pass on retry, and
      // must not stop the lock and parameters from being cleaned up: keep the instance, say why.
      if (error instanceof AwsTransientError) throw error;
      actions.push({
        action: 'keep-instance',
        resource: instanceId,
        outcome: `could not check for its Kubernetes Node (${error instanceof Error ? error.name : String(error)}); left for an operator`,
      });
      continue;
    }
    if (node) {
      actions.push({
        action: 'keep-instance',
        resource: instanceId,
        outcome: 'it is a Kubernetes Node; left for an operator',
      });
      continue;
    }
    const tags = await deps.ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: instanceId }),
    );
    const ours = tags.TagList?.some((t) => t.Key === TAG_KEYS.requestId && t.Value === state.requestId);
    if (!ours) {
      actions.push({
        action: 'keep-instance',
        resource: instanceId,
        outcome: `not tagged ${TAG_KEYS.requestId}=${state.requestId}`,
      });
      continue;
    }
    try {
      await deps.ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: instanceId }));
      actions.push({ action: 'deregister-instance', resource: instanceId, outcome: 'deregistered' });
    } catch (error) {
      if (!(error instanceof InvalidInstanceId)) throw error;
      actions.push({ action: 'deregister-instance', resource: instanceId, outcome: 'already gone' });
    }
  }
  return actions;
}
