import { DescribeActivationsFilterKeys, paginateDescribeActivations, type SSMClient } from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import { describeCaughtError } from '../caught-error';
import type { KubeNode, NodeReaderFactory } from '../kube/types';
import { releaseNodeLock } from '../node-lock';
import { lines, type Notification, snsSubject } from '../notifications';
import { requestParameters, type Settings } from '../settings';
import { TAG_KEYS } from '../tags';
import { type OffboardingNames, offboardCommands } from './leftovers';
import { costLine, lifecycleActions, nodeLabel, podList, subjectName } from './report';
import { currentStep, drainFinished, type OffboardingState, type PrepareResult } from './state';
import { instanceFacts } from './target';
import { type Action, afterTry, Attempts, describeError, type EarlierTry, type Leftover, leftoverLines } from './tries';

export interface FailureReport {
  requestId: string;
  step: string;
  error: string;
  problem: string;
  fix?: string;
  /** One line for the Fail state's cause and the status API. */
  summary: string;
  /** What the run did, the failure path's own steps included. */
  actions: Action[];
  /** What is still there, each with the command that finishes (or undoes) the job. */
  left: Leftover[];
  notification: Notification;
}

/** One try of the cleanup: its report, and whether the workflow waits and tries again. */
export type CleanupRun = FailureReport & { attempt: number; retry: boolean; nextWaitSeconds: number };

export interface CleanupDeps {
  ssm: SSMClient;
  nodes: NodeReaderFactory;
  settings: Pick<Settings, 'parameterPrefix' | 'region'>;
}

/**
 * After a failure: releases the node lock and says exactly where the node stands. Before the
 * drain finished the node goes back in service (the workflow uncordoned it first, unless it was
 * cordoned before this run came); after, it stays drained and cordoned, and the alert lists what
 * is left (the Node, nodeadm on its host, its managed instance, activations) with the command
 * that finishes each. Every fact is looked up, not taken from a step that may have failed; each
 * look is tried on its own, and the workflow tries again while a failure may pass.
 */
export async function cleanUpOffboarding(
  deps: CleanupDeps,
  state: OffboardingState & { cleanup?: EarlierTry },
): Promise<CleanupRun> {
  const step = currentStep(state);
  const error = describeCaughtError(state.failure ?? { Error: 'States.Unknown', Cause: 'no error was recorded' });
  const prepare = state.prepare;
  const names: OffboardingNames = {
    requestId: state.requestId,
    cluster: state.request.cluster,
    nodeName: prepare?.nodeName ?? state.target.nodeName,
    lockName: state.target.onboardedName ?? prepare?.onboardedName ?? state.target.nodeName,
  };
  const commands = offboardCommands(deps.settings, names);
  const tried = new Attempts();
  const finished = drainFinished(state);
  if (prepare) {
    if (finished) await reportWhatIsLeft(deps, state, prepare, tried, commands);
    else await reportCordon(deps, state, prepare, tried, commands);
  }
  const lock = state.resources.lockParameter;
  try {
    const released = await releaseNodeLock(deps.ssm, lock, state.requestId);
    tried.did('release-lock', lock, released ? 'released' : 'not held');
  } catch (err) {
    tried.leave(
      'lock',
      lock,
      `releasing it failed (${describeError(err)}); remove it only while its value names request ${state.requestId}`,
      commands.lock,
      err,
    );
  }
  const { attempt, actions, left, retry, nextWaitSeconds } = afterTry(state.cleanup, tried);
  const everything = [...(prepare ? lifecycleActions({ ...state, prepare }) : []), ...actions];

  const label = prepare ? nodeLabel(prepare) : (state.target.onboardedName ?? names.nodeName);
  const stillThere = left.some((l) => l.kind === 'node');
  const stillCordoned = left.some((l) => l.kind === 'cordon') || actions.some((a) => a.action === 'keep-cordon');
  const gone = actions.some((a) => a.outcome === 'the Node is gone');
  const standing =
    !prepare?.node.present || gone
      ? ''
      : stillThere || stillCordoned
        ? ', left cordoned'
        : finished
          ? ''
          : ', back in service';
  const blocked = error.name === 'DrainBlockedError' ? [] : (state.drain?.blocked ?? []);
  const message = [
    `Offboarding of ${label} from ${state.request.cluster} failed at step ${step}.`,
    '',
    lines([
      ['Request', state.requestId],
      ['Requested by', state.requester],
      ['Node', names.nodeName],
      ['Failed step', step],
      ['Error', error.name],
      ['What happened', error.problem],
      ['How to fix', error.fix ?? 'See the error above; offboard the node again once it is fixed.'],
    ]),
    ...(blocked.length && !finished ? ['', `Pods the drain was still waiting for: ${podList(blocked)}`] : []),
    '',
    !prepare
      ? 'Nothing was changed on the node.'
      : stillThere
        ? `The node is drained and stays cordoned; its Node was not deleted, so it still bills ${costLine(prepare)}.`
        : finished
          ? 'The node had been drained when the run failed.'
          : stillCordoned
            ? 'The drain did not finish; the node is still cordoned (see below).'
            : 'The drain did not finish; the node is back in service and nothing else was changed.',
    '',
    'What this run did:',
    ...(everything.length ? everything.map((a) => `- ${a.action} ${a.resource}: ${a.outcome}`) : ['- nothing']),
    ...leftoverLines(left, attempt),
  ].join('\n');
  const leftNote = left.length ? ` (${left.length} left)` : '';
  // The facts first: a subject over 99 characters is cut at the end.
  const name = prepare ? subjectName(prepare) : label;
  return {
    requestId: state.requestId,
    step,
    error: error.name,
    problem: error.problem,
    fix: error.fix,
    summary: `Failed at ${step} with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}${left.length ? ` Left: ${left.map((l) => `${l.kind} ${l.resource}`).join(', ')}.` : ''}`,
    actions: everything,
    left,
    notification: {
      subject: snsSubject(`[CRITICAL] ${name} offboarding failed${standing}${leftNote}: ${error.name} at ${step}`),
      message,
      severity: 'critical',
      cluster: state.request.cluster,
      check: 'offboarding',
    },
    attempt,
    retry,
    nextWaitSeconds,
  };
}

/**
 * Reads the Node; a failure to read it is left as what to check by hand: before the drain
 * finished, whether it is still cordoned; after, whether it is still there.
 */
async function readNode(
  deps: CleanupDeps,
  prepare: PrepareResult,
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
  drained: boolean,
): Promise<{ ok: true; node: KubeNode | undefined } | { ok: false }> {
  try {
    return { ok: true, node: await deps.nodes(prepare.clusterAccess).getNode(prepare.nodeName) };
  } catch (error) {
    const unread = `the Node could not be read (${describeError(error)})`;
    if (drained) {
      tried.leave(
        'node',
        prepare.nodeName,
        `${unread}: if kubectl get node ${prepare.nodeName} still lists it, it is drained and cordoned and still bills; to keep it instead: ${commands.uncordon}`,
        commands.deleteNode,
        error,
      );
    } else {
      tried.leave(
        'cordon',
        prepare.nodeName,
        `${unread}: if kubectl get node ${prepare.nodeName} says SchedulingDisabled, put it back in service`,
        commands.uncordon,
        error,
      );
    }
    return { ok: false };
  }
}

/** Before the drain finished: the node should be back in service, unless it was cordoned before the run. */
async function reportCordon(
  deps: CleanupDeps,
  state: OffboardingState,
  prepare: PrepareResult,
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
): Promise<void> {
  if (!prepare.node.present) return;
  const read = await readNode(deps, prepare, tried, commands, false);
  if (!read.ok) return;
  const node = read.node;
  if (!node) {
    tried.did('uncordon', prepare.nodeName, 'the Node is gone');
    return;
  }
  if (!node.unschedulable) {
    tried.did(
      'uncordon',
      prepare.nodeName,
      state.uncordon?.uncordoned ? 'uncordoned: back in service' : 'not cordoned',
    );
    return;
  }
  if (prepare.node.unschedulable) {
    tried.did(
      'keep-cordon',
      prepare.nodeName,
      `left cordoned: it was cordoned before this offboarding began (${commands.uncordon} puts it back in service)`,
    );
    return;
  }
  const why = state.uncordonFailure
    ? `uncordoning it failed (${describeCaughtError(state.uncordonFailure).name}: ${describeCaughtError(state.uncordonFailure).problem})`
    : 'this run cordoned it and it is still cordoned';
  tried.leave('cordon', prepare.nodeName, `${why}; put it back in service`, commands.uncordon);
}

/** After the drain: the node stays cordoned; what of it is left, each with the command that finishes it. */
async function reportWhatIsLeft(
  deps: CleanupDeps,
  state: OffboardingState,
  prepare: PrepareResult,
  tried: Attempts,
  commands: ReturnType<typeof offboardCommands>,
): Promise<void> {
  const uninstalled = prepare.uninstall.run && state.commandCheck?.done === true;
  if (prepare.uninstall.run && !uninstalled) {
    tried.left.push({
      kind: 'host',
      resource: prepare.nodeName,
      why: 'nodeadm uninstall did not finish on it (see the error); run it on the host',
      remove: commands.uninstall,
      retryable: false,
    });
  }
  const read = await readNode(deps, prepare, tried, commands, true);
  if (read.ok && read.node) {
    const node = read.node;
    tried.left.push({
      kind: 'node',
      resource: prepare.nodeName,
      why: `drained and ${node.unschedulable ? 'cordoned' : 'NOT cordoned'}, still billing ${costLine(prepare)}; to keep it instead: ${commands.uncordon}`,
      remove: commands.deleteNode,
      retryable: false,
    });
  } else if (read.ok) {
    tried.did('delete-node', prepare.nodeName, 'the Node is gone');
  }
  if (/^mi-/.test(prepare.instance.id)) {
    try {
      const instance = await instanceFacts(deps.ssm, prepare.instance.id);
      if (instance) {
        tried.left.push({
          kind: 'managed-instance',
          resource: prepare.instance.id,
          why: 'still registered (nodeadm uninstall deregisters it; otherwise deregister it once the Node is deleted)',
          remove: commands.deregister,
          retryable: false,
        });
      } else {
        tried.did('deregister-instance', prepare.instance.id, 'not registered');
      }
    } catch (error) {
      tried.leave(
        'managed-instance',
        prepare.instance.id,
        `whether it is still registered could not be read (${describeError(error)})`,
        commands.deregister,
        error,
      );
    }
  }
  if (!prepare.onboardedName) return;
  try {
    for await (const page of paginateDescribeActivations(
      { client: deps.ssm, pageSize: PAGE_SIZE.ssmDescribeActivations },
      {
        Filters: [
          { FilterKey: DescribeActivationsFilterKeys.DEFAULT_INSTANCE_NAME, FilterValues: [prepare.onboardedName] },
        ],
      },
    )) {
      for (const a of page.ActivationList ?? []) {
        if (!a.ActivationId || !a.Tags?.some((t) => t.Key === TAG_KEYS.clusterArn && t.Value === prepare.clusterArn)) {
          continue;
        }
        tried.left.push({
          kind: 'activation',
          resource: a.ActivationId,
          why: `issued for ${prepare.onboardedName}; nothing should register with it once the node is gone`,
          remove: commands.activation(a.ActivationId),
          retryable: false,
        });
        const request = a.Tags.find((t) => t.Key === TAG_KEYS.requestId)?.Value;
        if (request) {
          tried.left.push({
            kind: 'parameters',
            resource: requestParameters(deps.settings, request).base,
            why: `what onboarding request ${request} stored, if still there`,
            remove: commands.parameters(request),
            retryable: false,
          });
        }
      }
    }
  } catch (error) {
    tried.leave(
      'activation',
      `activations named ${prepare.onboardedName}`,
      `they could not be listed (${describeError(error)})`,
      commands.activationsFor(prepare.onboardedName, prepare.clusterArn),
      error,
    );
  }
}
