import type { SSMClient } from '@aws-sdk/client-ssm';
import { type CaughtError, describeCaughtError } from '../caught-error';
import type { Clock } from '../clock';
import { NodeBusyError, NodeUpgradeTimeoutError, OnboardingInProgressError, splitFix } from '../errors';
import type { KubeNode, NodeReaderFactory } from '../kube/types';
import { acquireNodeLock, releaseNodeLock } from '../node-lock';
import { drainWaitSeconds, nodeLockSeconds, UPGRADE_TIMINGS } from './limits';
import { parseKubeletVersion } from '../domain/kubernetes';
import type { NodeItem, NodeOutcome, NodeStart, Readiness, SkipReason } from './state';

/**
 * The steps of one node's upgrade that are the upgrade's own (cordon, drain and the nodeadm
 * command are lib/node-lifecycle's, shared with offboarding): take the node, wait for it to come
 * back at the target, and end it, upgraded or failed, saying what is left.
 */

const atTarget = (version: string | undefined, target: string) => {
  const have = parseKubeletVersion(version);
  const want = parseKubeletVersion(target);
  return Boolean(have && want && have.major === want.major && have.minor === want.minor);
};

const minutes = (ms: number) => Math.max(0, Math.round(ms / 60_000));

function outcomeBase(item: NodeItem) {
  const { node } = item;
  return { nodeName: node.nodeName, name: node.name, wave: node.wave, from: node.from };
}

/** The Ready condition as one phrase. */
function readiness(node: KubeNode | undefined): string {
  if (!node) return 'gone';
  if (!node.ready) return 'without a Ready condition';
  if (node.ready.status === 'True') return 'Ready';
  return `NotReady (${[node.ready.reason, node.ready.message].filter(Boolean).join(': ') || node.ready.status})`;
}

/**
 * Takes the node's lock (as an upgrade; the same lock onboarding and offboarding take), then
 * looks at the Node again: one that is gone, NotReady, or at the target already since the plan is
 * skipped (its lock released), as is one another run holds. Otherwise the node is the upgrade's
 * until FinishNodeUpgrade or FailNodeUpgrade; whether it was cordoned before is remembered, so the
 * upgrade never uncordons someone else's cordon.
 */
export async function startNodeUpgrade(
  deps: { ssm: SSMClient; nodes: NodeReaderFactory; clock: Clock },
  item: NodeItem,
): Promise<NodeStart> {
  const now = deps.clock.now();
  const started: Omit<NodeStart, 'action'> = {
    startedAt: now.toISOString(),
    cordonedBefore: false,
    drainDeadline: new Date(now.getTime() + item.drainTimeoutSeconds * 1000).toISOString(),
    drainWaitSeconds: drainWaitSeconds(item.drainTimeoutSeconds),
  };
  const skip = (reason: SkipReason, detail: string): NodeStart => ({
    action: 'skip',
    ...started,
    outcome: { ...outcomeBase(item), outcome: 'skipped', reason, detail, cordoned: false },
  });
  const lock = item.node.lockParameter;
  try {
    const expiresAt = new Date(now.getTime() + nodeLockSeconds(item.drainTimeoutSeconds) * 1000).toISOString();
    await acquireNodeLock(deps.ssm, lock, { requestId: item.upgradeId, expiresAt, workflow: 'upgrade' }, now);
  } catch (error) {
    if (!(error instanceof NodeBusyError || error instanceof OnboardingInProgressError)) throw error;
    return skip('busy', `${splitFix(error.message).problem} Left alone; upgrade it once that run has ended.`);
  }
  const node = await deps.nodes(item.access).getNode(item.node.nodeName);
  const letGo = async (reason: SkipReason, detail: string) => {
    await releaseNodeLock(deps.ssm, lock, item.upgradeId);
    return skip(reason, detail);
  };
  if (!node) return letGo('not-found', `Node ${item.node.nodeName} is gone since the upgrade was planned.`);
  if (atTarget(node.kubeletVersion, item.target)) {
    return letGo('at-target', `kubelet ${node.kubeletVersion} is at ${item.target} already.`);
  }
  if (node.ready?.status !== 'True') {
    return letGo(
      'not-ready',
      `it turned ${readiness(node)} since the upgrade was planned; fix it or offboard it first.`,
    );
  }
  return { action: 'upgrade', ...started, cordonedBefore: node.unschedulable };
}

/**
 * One look at the Node after `nodeadm upgrade` succeeded: done when it is Ready and its kubelet
 * reports the target minor version (the kubelet restarts, the Node goes NotReady for a while;
 * EKS user guide, "Upgrade hybrid nodes": wait for the nodes "to shutdown and restart on the new
 * Kubernetes version with the Ready status"). Not so within the timeout: NodeUpgradeTimeoutError.
 */
export async function checkUpgradedNode(
  deps: { nodes: NodeReaderFactory; clock: Clock },
  input: Pick<NodeItem, 'access' | 'target'> & { nodeName: string; previous?: Readiness },
): Promise<Readiness> {
  const now = deps.clock.now();
  const since = input.previous?.since ?? now.toISOString();
  const attempt = (input.previous?.attempt ?? 0) + 1;
  const node = await deps.nodes(input.access).getNode(input.nodeName);
  const state = readiness(node);
  const found = {
    since,
    attempt,
    ready: state,
    ...(node?.kubeletVersion ? { kubeletVersion: node.kubeletVersion } : {}),
  };
  if (node?.ready?.status === 'True' && atTarget(node.kubeletVersion, input.target)) return { done: true, ...found };
  const timeout = UPGRADE_TIMINGS.readyTimeoutSeconds;
  if (now.getTime() - Date.parse(since) > timeout * 1000) {
    throw new NodeUpgradeTimeoutError(
      `Node ${input.nodeName} is not Ready at ${input.target} ${minutes(timeout * 1000)} minutes after nodeadm upgrade succeeded: it is ${state}, its kubelet ${node?.kubeletVersion ?? 'reports no version'}.`,
      `On the server, read journalctl -u kubelet and the nodeadm upgrade log; fix it, then kubectl uncordon ${input.nodeName}.`,
    );
  }
  return { done: false, ...found };
}

/** Releases the lock; a failure to do so is reported, not thrown (the lock goes stale by itself). */
async function release(ssm: SSMClient, item: NodeItem): Promise<{ lockLeft?: string; note: string }> {
  try {
    await releaseNodeLock(ssm, item.node.lockParameter, item.upgradeId);
    return { note: '' };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    return {
      lockLeft: item.node.lockParameter,
      note: ` Its lock could not be released (${name}); it goes stale when its deadline passes, or remove it now: aws ssm delete-parameter --name ${item.node.lockParameter}.`,
    };
  }
}

/**
 * The node is Ready at the target and uncordoned (unless it was cordoned before the upgrade came,
 * and is left so): releases its lock and says how it went.
 */
export async function finishNodeUpgrade(
  deps: { ssm: SSMClient; clock: Clock },
  input: { item: NodeItem; start: NodeStart; readiness: Readiness },
): Promise<NodeOutcome> {
  const { item, start } = input;
  const took = minutes(deps.clock.now().getTime() - Date.parse(start.startedAt));
  const lock = await release(deps.ssm, item);
  const to = input.readiness.kubeletVersion;
  const cordon = start.cordonedBefore
    ? ` Left cordoned, as it was before the upgrade: kubectl uncordon ${item.node.nodeName} when it should take pods again.`
    : '';
  return {
    ...outcomeBase(item),
    outcome: 'upgraded',
    ...(to ? { to } : {}),
    detail: `Upgraded from ${item.node.from} to ${to ?? item.target} in ${took} min.${cordon}${lock.note}`,
    cordoned: start.cordonedBefore,
    ...(lock.lockLeft ? { lockLeft: lock.lockLeft } : {}),
  };
}

/** What a node's Map iteration hands FailNodeUpgrade: its item and whatever its steps wrote. */
export interface NodeFailureInput {
  item: NodeItem;
  failure: CaughtError;
  start?: NodeStart;
  cordon?: unknown;
  drain?: { done: boolean };
  command?: unknown;
  commandStatus?: { done: boolean };
  readiness?: Readiness;
  /** UncordonNode ran after the failure (it succeeded: the node is schedulable again). */
  uncordon?: unknown;
  uncordonFailure?: CaughtError;
}

/** The step that failed, from what the steps before it wrote (each writes its own part of the state). */
export function failedStep(input: NodeFailureInput): string {
  if (!input.start) return 'StartNodeUpgrade';
  if (!input.cordon) return 'CordonNode';
  if (!input.drain?.done) return 'DrainNode';
  if (!input.command) return 'RunNodeCommand';
  if (!input.commandStatus?.done) return 'CheckNodeCommand';
  if (!input.readiness?.done) return 'CheckUpgradedNode';
  return 'UncordonNode';
}

/**
 * A step of the node's upgrade failed: releases its lock and says what happened and what is left.
 * Before `nodeadm upgrade` ran (a blocked drain, say) the workflow has uncordoned the node, unless
 * it was cordoned before; from the command on, the node is left cordoned (it may be half
 * upgraded), and the outcome says so with the command that brings it back.
 */
export async function failNodeUpgrade(deps: { ssm: SSMClient }, input: NodeFailureInput): Promise<NodeOutcome> {
  const { item } = input;
  const step = failedStep(input);
  const error = describeCaughtError(input.failure);
  const node = item.node.nodeName;
  const lock = await release(deps.ssm, item);
  const touched = step !== 'StartNodeUpgrade';
  const uncordoned = input.uncordon !== undefined && !input.uncordonFailure;
  const cordoned = touched && !uncordoned;
  let left: string;
  if (!cordoned) left = touched ? ' It was uncordoned and is unchanged.' : ' Nothing was changed on it.';
  else if (input.start?.cordonedBefore && !input.command) {
    left = ` It is left cordoned, as it was before the upgrade (kubectl uncordon ${node} when it should take pods).`;
  } else if (input.uncordonFailure) {
    left = ` It is left cordoned: uncordoning failed (${input.uncordonFailure.Error}); run kubectl uncordon ${node}.`;
  } else {
    left = ` It is left cordoned: once it is fixed and Ready at ${item.target}, run kubectl uncordon ${node}.`;
  }
  const fix = error.fix ? ` Fix: ${error.fix}` : '';
  return {
    ...outcomeBase(item),
    outcome: 'failed',
    step,
    error: error.name,
    ...(input.readiness?.kubeletVersion ? { to: input.readiness.kubeletVersion } : {}),
    detail: `${step} failed with ${error.name}: ${error.problem}${fix}${left}${lock.note}`,
    cordoned,
    ...(lock.lockLeft ? { lockLeft: lock.lockLeft } : {}),
  };
}
