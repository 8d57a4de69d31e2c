import {
  DeleteActivationCommand,
  DeleteParametersCommand,
  DescribeActivationsFilterKeys,
  InvalidActivation,
  InvalidActivationId,
  paginateDescribeActivations,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { Clock } from '../clock';
import type { KubeApiFactory } from '../kube/types';
import { deregisterManagedInstance } from '../managed-instances';
import { releaseNodeLock } from '../node-lock';
import { lines, type Notification, snsSubject } from '../notifications';
import { usd } from '../pricing';
import { requestParameters, type Settings } from '../settings';
import { TAG_KEYS } from '../tags';
import { type OffboardingNames, offboardCommands } from './leftovers';
import { costLine, hostFilesLines, lifecycleActions, nodeLabel, outputTail, subjectName } from './report';
import type { OffboardingState, PrepareResult } from './state';
import { instanceFacts } from './target';
import * as z from 'zod';
import {
  type Action,
  afterTry,
  Attempts,
  describeError,
  EarlierTrySchema,
  type Leftover,
  leftoverLines,
} from './tries';

export interface OffboardingSummary {
  /** `already-gone`: neither the Node nor its managed instance was there when the run looked. */
  outcome: 'offboarded' | 'already-gone';
  requestId: string;
  cluster: string;
  nodeName: string;
  onboardedName?: string;
  /** What it cost a day while its Node existed: what stops now. */
  costPerDayUsd: number;
  /** Whether `nodeadm uninstall` ran on the host, or why not. */
  uninstall: { ran: boolean; reason: string; status?: string; outputTail?: string[] };
  /** Everything the run did, in order: cordon, drain, uninstall, then the removal's steps. */
  actions: Action[];
  /** What it could not remove, each with the command that does: a warning, not a failure. */
  left: Leftover[];
  notification: Notification;
}

/**
 * One try of RemoveNode: the summary, whether the workflow waits and tries again, and the
 * onboarding requests whose parameters it looked for (a later try looks for them again).
 */
export type RemoveRun = OffboardingSummary & {
  requestIds: string[];
  attempt: number;
  retry: boolean;
  nextWaitSeconds: number;
};

/** What RemoveNode hands its next try (the workflow passes its result back in). */
export const EarlierRemoveSchema = EarlierTrySchema.extend({ requestIds: z.array(z.string()).optional() });
export type EarlierRemove = z.infer<typeof EarlierRemoveSchema>;

export interface RemoveDeps {
  ssm: SSMClient;
  nodes: KubeApiFactory;
  clock: Clock;
  settings: Pick<Settings, 'parameterPrefix' | 'region'>;
}

/**
 * Takes the node out for good once it is drained and (when its host answered) nodeadm is
 * uninstalled: deletes the Node object, which stops the bill; deregisters the managed instance if
 * it is still registered (a host that was offline, or skipped); deletes the activations and stored
 * onboarding parameters left for the node; releases the lock. Deleting the Node must succeed (a
 * failure throws, and the workflow reports the node still there); each later step is tried on
 * its own, and what it cannot do is a warning naming the command that does it.
 */
export async function removeNode(
  deps: RemoveDeps,
  state: OffboardingState & { prepare: PrepareResult; remove?: EarlierRemove },
): Promise<RemoveRun> {
  const { prepare, requestId } = state;
  const names: OffboardingNames = {
    requestId,
    cluster: state.request.cluster,
    nodeName: prepare.nodeName,
    lockName: state.target.onboardedName ?? prepare.onboardedName ?? prepare.nodeName,
  };
  const commands = offboardCommands(deps.settings, names);
  const tried = new Attempts();

  // The Node first: its deletion is what stops the bill. A failure here is the run's failure.
  const deleted = await deps.nodes(prepare.clusterAccess).deleteNode(prepare.nodeName);
  tried.did(
    'delete-node',
    prepare.nodeName,
    deleted ? 'deleted' : prepare.node.present ? 'already gone' : 'none existed',
  );

  await deregister(deps, state, tried, commands);
  // The onboarding requests whose stored parameters are looked for: the instance's, those of the
  // activations found, and those an earlier try found (their activations may be gone since).
  const requestIds = new Set([
    ...(prepare.instance.requestId ? [prepare.instance.requestId] : []),
    ...(state.remove?.requestIds ?? []),
  ]);
  // Parameters before activations: an activation's tag is the only clue to its request's
  // parameters, so it goes last, and a try cut short after it has deleted them loses nothing.
  const activations = prepare.onboardedName ? await findActivations(deps, prepare, tried, commands, requestIds) : [];
  const undeleted = await deleteParameters(deps, [...requestIds].sort(), tried, commands);
  await deleteActivations(deps, activations, undeleted, tried, commands);
  try {
    const released = await releaseNodeLock(deps.ssm, prepare.lockParameter, requestId);
    tried.did('release-lock', prepare.lockParameter, released ? 'released' : 'not held');
  } catch (error) {
    tried.leave(
      'lock',
      prepare.lockParameter,
      `releasing it failed (${describeError(error)}); remove it only while its value names request ${requestId}`,
      commands.lock,
      error,
    );
  }

  const host = prepare.uninstall;
  if (host.reason === 'host-offline' || host.reason === 'no-managed-instance') {
    tried.left.push({
      kind: 'host',
      resource: prepare.nodeName,
      why: `nodeadm uninstall could not run on it (${host.reason === 'host-offline' ? 'its SSM agent was not Online' : 'SSM Run Command cannot reach it'}): its files are still there`,
      remove: hostFilesLines(deps.settings, names).join(' '),
      retryable: false,
    });
  }
  const { attempt, actions, left, retry, nextWaitSeconds } = afterTry(state.remove, tried);
  const summary = summarize(deps, state, [...lifecycleActions(state), ...actions], left, attempt);
  return { ...summary, requestIds: [...requestIds].sort(), attempt, retry, nextWaitSeconds };
}

/** Deregisters the managed instance if it is still registered (and still this cluster's). */
async function deregister(
  deps: RemoveDeps,
  state: OffboardingState & { prepare: PrepareResult },
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
): Promise<void> {
  const { prepare } = state;
  const id = prepare.instance.id;
  if (!/^mi-/.test(id)) return;
  let doing = 'looking it up';
  try {
    const instance = await instanceFacts(deps.ssm, id);
    if (!instance) {
      const by = prepare.uninstall.run ? 'deregistered by nodeadm uninstall' : 'was not registered';
      tried.did('deregister-instance', id, prepare.instance.registered ? by : 'was not registered');
      return;
    }
    if (instance.clusterArn !== prepare.clusterArn) {
      // Preflight found it this cluster's; a tag that changed since is for an operator to judge.
      tried.leave(
        'managed-instance',
        id,
        `it is no longer tagged ${TAG_KEYS.clusterArn}=${prepare.clusterArn}; left alone`,
        commands.deregister,
      );
      return;
    }
    doing = 'deregistering it';
    const outcome = await deregisterManagedInstance(deps.ssm, id);
    tried.did('deregister-instance', id, outcome === 'deregistered' ? outcome : 'already deregistered');
  } catch (error) {
    tried.leave('managed-instance', id, `${doing} failed (${describeError(error)})`, commands.deregister, error);
  }
}

/**
 * Activations issued for the node's onboarded name in this cluster (named for it, tagged with the
 * cluster), to delete: nothing may register with them once the node is gone. Their request ids are
 * noted, so the parameters those requests stored are looked for too.
 */
async function findActivations(
  deps: RemoveDeps,
  prepare: PrepareResult,
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
  requestIds: Set<string>,
): Promise<FoundActivation[]> {
  const name = prepare.onboardedName ?? '';
  const found: FoundActivation[] = [];
  try {
    for await (const page of paginateDescribeActivations(
      { client: deps.ssm, pageSize: PAGE_SIZE.ssmDescribeActivations },
      { Filters: [{ FilterKey: DescribeActivationsFilterKeys.DEFAULT_INSTANCE_NAME, FilterValues: [name] }] },
    )) {
      for (const a of page.ActivationList ?? []) {
        const tag = (key: string) => a.Tags?.find((t) => t.Key === key)?.Value;
        if (!a.ActivationId || tag(TAG_KEYS.clusterArn) !== prepare.clusterArn) continue;
        const request = tag(TAG_KEYS.requestId);
        found.push({ id: a.ActivationId, requestId: request });
        if (request) requestIds.add(request);
      }
    }
  } catch (error) {
    tried.leave(
      'activation',
      `activations named ${name}`,
      `they could not be listed (${describeError(error)})`,
      commands.activationsFor(name, prepare.clusterArn),
      error,
    );
    return [];
  }
  return found;
}

interface FoundActivation {
  id: string;
  /** `hybridops:request-id`: the onboarding request whose parameters it leads to. */
  requestId?: string;
}

/**
 * Deletes the activations {@link findActivations} found (one already gone is done), but keeps one
 * whose request's parameters could not be deleted: its tag is the next try's only way to them.
 */
async function deleteActivations(
  deps: RemoveDeps,
  activations: FoundActivation[],
  undeleted: Map<string, unknown>,
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
): Promise<void> {
  for (const { id, requestId } of activations) {
    if (requestId && undeleted.has(requestId)) {
      tried.leave(
        'activation',
        id,
        `kept until the parameters of request ${requestId} are deleted: its tag is what finds them`,
        commands.activation(id),
        undeleted.get(requestId),
      );
      continue;
    }
    try {
      await deps.ssm.send(new DeleteActivationCommand({ ActivationId: id }));
      tried.did('delete-activation', id, 'deleted');
    } catch (error) {
      if (error instanceof InvalidActivation || error instanceof InvalidActivationId) {
        tried.did('delete-activation', id, 'already gone');
        continue;
      }
      tried.leave(
        'activation',
        id,
        `DeleteActivation failed (${describeError(error)})`,
        commands.activation(id),
        error,
      );
    }
  }
}

/**
 * Deletes the activation code and NodeConfig each onboarding request of the node stored, if still
 * there; answers the requests whose deletion failed, with the error.
 */
async function deleteParameters(
  deps: RemoveDeps,
  requestIds: string[],
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
): Promise<Map<string, unknown>> {
  const undeleted = new Map<string, unknown>();
  for (const id of requestIds) {
    const p = requestParameters(deps.settings, id);
    try {
      const answer = await deps.ssm.send(new DeleteParametersCommand({ Names: [p.activationCode, p.nodeConfig] }));
      const count = answer.DeletedParameters?.length ?? 0;
      tried.did('delete-parameters', p.base, count ? `deleted ${count}` : 'none existed');
    } catch (error) {
      tried.leave(
        'parameters',
        p.base,
        `DeleteParameters failed (${describeError(error)})`,
        commands.parameters(id),
        error,
      );
      undeleted.set(id, error);
    }
  }
  return undeleted;
}

function summarize(
  deps: RemoveDeps,
  state: OffboardingState & { prepare: PrepareResult },
  actions: Action[],
  left: Leftover[],
  attempt: number,
): OffboardingSummary {
  const { prepare, request, requestId } = state;
  const gone = !prepare.node.present && !prepare.instance.registered;
  const label = nodeLabel(prepare);
  const tail = outputTail(state);
  const uninstall = {
    ran: prepare.uninstall.run,
    reason: prepare.uninstall.reason,
    ...(state.commandCheck?.status ? { status: state.commandCheck.status } : {}),
    ...(tail.length ? { outputTail: tail } : {}),
  };
  const warnings = left.filter((l) => l.kind !== 'host').length;
  const hostLeft = left.some((l) => l.kind === 'host');
  const leftNote = warnings ? `; ${warnings} left` : hostLeft ? '; host not uninstalled' : '';
  const name = subjectName(prepare);
  const subject = gone
    ? `[OK] ${name} was already gone from ${request.cluster}`
    : `[${left.length ? 'WARNING' : 'OK'}] ${name} offboarded: ${usd(prepare.costPerDayUsd)}/day stopped${leftNote}`;
  const names: OffboardingNames = {
    requestId,
    cluster: request.cluster,
    nodeName: prepare.nodeName,
    lockName: state.target.onboardedName ?? prepare.onboardedName ?? prepare.nodeName,
  };
  const message = [
    gone
      ? `Hybrid node ${label} had no Node object and no registered managed instance in cluster ${request.cluster}: there was nothing to offboard.`
      : `Hybrid node ${label} was offboarded from cluster ${request.cluster}. Its Node object is deleted, so it no longer bills: ${costLine(prepare)}.`,
    '',
    lines([
      ['Request', requestId],
      ['Requested by', state.requester],
      ['Node', prepare.nodeName],
      ['Onboarded as', prepare.onboardedName],
      ['IP', prepare.node.internalIp],
      ['Kubelet', prepare.node.kubeletVersion],
    ]),
    '',
    'What was done:',
    ...actions.map((a) => `- ${a.action} ${a.resource}: ${a.outcome}`),
    ...(tail.length ? ['', 'nodeadm uninstall output (last lines):', ...tail.map((l) => `    ${l}`)] : []),
    ...(!gone && !hostLeft && !prepare.uninstall.run && prepare.node.present
      ? [
          '',
          `nodeadm uninstall did not run on the host. If it is to be reused, run on it: ${offboardCommands(deps.settings, names).uninstall}`,
        ]
      : []),
    ...(hostLeft && !gone
      ? [
          '',
          `The host still has nodeadm's files: nodeadm uninstall could not run on it.`,
          ...hostFilesLines(deps.settings, names),
        ]
      : []),
    ...leftoverLines(
      left.filter((l) => l.kind !== 'host'),
      attempt,
    ),
  ].join('\n');
  return {
    outcome: gone ? 'already-gone' : 'offboarded',
    requestId,
    cluster: request.cluster,
    nodeName: prepare.nodeName,
    ...(prepare.onboardedName ? { onboardedName: prepare.onboardedName } : {}),
    costPerDayUsd: gone ? 0 : prepare.costPerDayUsd,
    uninstall,
    actions,
    left,
    notification: {
      subject: snsSubject(subject),
      message,
      severity: left.length ? 'warning' : 'info',
      cluster: request.cluster,
      check: 'offboarding',
    },
  };
}
