import {
  type InstanceInformation,
  InvalidInstanceId,
  InvalidResourceId,
  ListTagsForResourceCommand,
  paginateDescribeInstanceInformation,
  ResourceTypeForTagging,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { PAGE_SIZE } from '../aws/page-sizes';
import { isTransientAwsError } from '../errors';
import { deregisterManagedInstance } from '../managed-instances';
import type { ClusterAccess, KubeApiFactory, NodeReaderFactory } from '../kube/types';
import { requestParameters, type Settings } from '../settings';
import { type RequestNames, removeCommands } from './leftovers';
import { deleteActivation, requestActivationIds } from './activation';
import { releaseNodeLock } from '../node-lock';
import { deleteParameters } from './parameters';
import { TAG_KEYS } from '../tags';

/**
 * Removing what an onboarding request made once it has ended, joined or failed: its stored code
 * and NodeConfig, its node lock, its activations and, when it failed, a managed instance that
 * registered but never became its Node. Each step is tried on its own, so one failing never
 * keeps the others from running, and every name is derived from the request (not from results
 * an earlier step may have lost). What cannot be removed is returned with the command that
 * removes it; the workflow tries again while a failure may pass (throttling, an outage).
 */

export const CleanupActionSchema = z.object({
  action: z.enum([
    'delete-activation',
    'delete-parameters',
    'deregister-instance',
    'keep-instance',
    'release-lock',
    'delete-pod',
  ]),
  resource: z.string(),
  outcome: z.string(),
});
export type CleanupAction = z.infer<typeof CleanupActionSchema>;

/** `request`: the cleanup could not run, so whatever the request made may be left (the commands find it). */
export type LeftoverKind = 'parameters' | 'lock' | 'activation' | 'managed-instance' | 'node' | 'pod' | 'request';

/** Something of the request that is still there, why, and the exact command that removes it. */
export interface Leftover {
  kind: LeftoverKind;
  resource: string;
  why: string;
  remove: string;
  /** A later try may remove it: the failure was throttling, a timeout or an outage. */
  retryable: boolean;
}

export interface Tidied {
  actions: CleanupAction[];
  left: Leftover[];
}

export interface TidyDeps {
  ssm: SSMClient;
  /** To tell a stray instance from a Node (mode `failed` only). */
  nodes?: NodeReaderFactory;
  /** To delete the GPU smoke test's pod (`smokeTestPod`). */
  pods?: KubeApiFactory;
  settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>;
}

export interface TidyTarget extends RequestNames {
  /** The activation the state recorded; activations it never recorded are found by their tag. */
  activationId?: string;
  /** To ask whether a registered instance became a Node; absent before preflight finished. */
  clusterAccess?: ClusterAccess;
  /** The managed instance the state saw register, if any (still handled when listing fails). */
  instanceId?: string;
  /** `joined`: the registered instance is the new Node and stays. `failed`: strays are deregistered. */
  mode: 'joined' | 'failed';
  /** The GPU smoke test's pod, when one may be left (deleted if it is there; needs `clusterAccess` and `pods`). */
  smokeTestPod?: { namespace: string; name: string };
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** Removes what the request made; see the module comment. Never throws for an AWS failure. */
export async function tidyRequest(deps: TidyDeps, target: TidyTarget): Promise<Tidied> {
  const actions: CleanupAction[] = [];
  const left: Leftover[] = [];
  const commands = removeCommands(deps.settings, target);
  const leave = (kind: LeftoverKind, resource: string, why: string, remove: string, error?: unknown) =>
    left.push({ kind, resource, why, remove, retryable: error !== undefined && isTransientAwsError(error) });

  // The secrets first: the code must not outlive the request.
  const names = requestParameters(deps.settings, target.requestId);
  try {
    const deleted = await deleteParameters(deps.ssm, [names.activationCode, names.nodeConfig]);
    actions.push({
      action: 'delete-parameters',
      resource: names.base,
      outcome: deleted.length ? `deleted ${deleted.length}` : 'none existed',
    });
  } catch (error) {
    leave('parameters', names.base, `DeleteParameters failed (${describe(error)})`, commands.parameters, error);
  }

  const pod = target.smokeTestPod;
  if (pod && target.clusterAccess && deps.pods) {
    const resource = `${pod.namespace}/${pod.name}`;
    try {
      const deleted = await deps.pods(target.clusterAccess).deletePod(pod.namespace, pod.name);
      actions.push({ action: 'delete-pod', resource, outcome: deleted ? 'deleted' : 'none existed' });
    } catch (error) {
      const remove = commands.pod(pod.namespace, pod.name);
      leave('pod', resource, `deleting the GPU smoke-test pod failed (${describe(error)})`, remove, error);
    }
  }

  const lock = commands.lockName;
  if (lock && commands.lock) {
    try {
      const released = await releaseNodeLock(deps.ssm, lock, target.requestId);
      actions.push({ action: 'release-lock', resource: lock, outcome: released ? 'released' : 'not held' });
    } catch (error) {
      const why = `releasing it failed (${describe(error)}); remove it only while its value names request ${target.requestId}`;
      leave('lock', lock, why, commands.lock, error);
    }
  }

  const activations = new Set(target.activationId ? [target.activationId] : []);
  if (target.nodeName) {
    // Also those the state never recorded: IssueActivation's answer was lost (the SDK or the
    // workflow then created another), or it never reached the state. They all carry our tag.
    try {
      for (const id of await requestActivationIds(deps.ssm, target.nodeName, target.requestId)) activations.add(id);
    } catch (error) {
      const why = `the activations could not be listed (${describe(error)})`;
      leave('activation', `activations tagged ${commands.tag}`, why, commands.taggedActivations, error);
    }
  }
  for (const id of activations) {
    try {
      const outcome = await deleteActivation(deps.ssm, id);
      const unrecorded = id !== target.activationId && outcome === 'deleted';
      actions.push({
        action: 'delete-activation',
        resource: id,
        outcome: unrecorded ? 'deleted (not recorded in the state)' : outcome,
      });
    } catch (error) {
      leave('activation', id, `DeleteActivation failed (${describe(error)})`, commands.activation(id), error);
    }
  }

  // Once preflight passed an activation may have been issued, and an instance registered with it.
  if (target.mode === 'failed' && (target.clusterAccess || activations.size > 0)) {
    const strays = await deregisterStrays(deps, target, commands);
    actions.push(...strays.actions);
    left.push(...strays.left);
  }
  return { actions, left };
}

/**
 * The managed instances that registered for this request (by the request tag SSM copied onto
 * them from the activation) and did not become a Node: deregistered, once their own tags confirm
 * they are this request's. One that became a Node, or could not be checked, is left and named.
 */
async function deregisterStrays(
  deps: TidyDeps,
  target: TidyTarget,
  commands: ReturnType<typeof removeCommands>,
): Promise<Tidied> {
  const actions: CleanupAction[] = [];
  const left: Leftover[] = [];
  const ids = new Set(target.instanceId ? [target.instanceId] : []);
  // Those SSM lists now are registered: for them, InvalidResourceId does not mean gone.
  const listed = new Set<string>();
  try {
    for (const { InstanceId: id } of await instancesTagged(deps.ssm, target.requestId)) {
      if (!id) continue;
      ids.add(id);
      listed.add(id);
    }
  } catch (error) {
    const retryable = isTransientAwsError(error);
    left.push(
      {
        kind: 'managed-instance',
        resource: `instances tagged ${commands.tag}`,
        why: `the managed instances could not be listed (${describe(error)}); deregister each that is not a Kubernetes Node`,
        remove: commands.taggedInstances,
        retryable,
      },
      {
        kind: 'node',
        resource: `Nodes labelled ${commands.nodeSelector}`,
        why: `one may have joined before the onboarding failed (find it with kubectl get nodes -l ${commands.nodeSelector}); keep or remove it`,
        remove: commands.node('<mi-id>'),
        retryable,
      },
    );
  }
  for (const id of ids) {
    try {
      if (!target.clusterAccess || !deps.nodes) {
        throw new Error('the cluster endpoint is not known (preflight did not finish)');
      }
      const node = await deps.nodes(target.clusterAccess).getNode(id);
      if (node) {
        actions.push({
          action: 'keep-instance',
          resource: id,
          outcome: 'it is a Kubernetes Node; left for an operator',
        });
        left.push({
          kind: 'node',
          resource: id,
          why: 'it registered and became a Kubernetes Node before the onboarding failed; left for an operator to keep or remove',
          remove: commands.node(id),
          retryable: false,
        });
        continue;
      }
    } catch (error) {
      actions.push({
        action: 'keep-instance',
        resource: id,
        outcome: `could not check for its Kubernetes Node (${error instanceof Error ? error.name : String(error)})`,
      });
      left.push({
        kind: 'managed-instance',
        resource: id,
        why: `whether it became a Kubernetes Node could not be read (${describe(error)}); deregister it only if kubectl get node ${id} finds none`,
        remove: commands.instance(id),
        retryable: isTransientAwsError(error),
      });
      continue;
    }
    let doing = 'reading its tags';
    try {
      const tags = await deps.ssm.send(
        new ListTagsForResourceCommand({ ResourceType: ResourceTypeForTagging.MANAGED_INSTANCE, ResourceId: id }),
      );
      if (!tags.TagList?.some((t) => t.Key === TAG_KEYS.requestId && t.Value === target.requestId)) {
        actions.push({ action: 'keep-instance', resource: id, outcome: `not tagged ${commands.tag}` });
        continue;
      }
      doing = 'deregistering it';
      actions.push({
        action: 'deregister-instance',
        resource: id,
        outcome: await deregisterManagedInstance(deps.ssm, id),
      });
    } catch (error) {
      // Gone already (an earlier try deregistered it): it cannot go twice, and the tags of one
      // this try did not list (the state's instance) cannot be read.
      const gone = error instanceof InvalidInstanceId || (error instanceof InvalidResourceId && !listed.has(id));
      if (gone) {
        actions.push({ action: 'deregister-instance', resource: id, outcome: 'already gone' });
        continue;
      }
      left.push({
        kind: 'managed-instance',
        resource: id,
        why: `${doing} failed (${describe(error)})`,
        remove: commands.instance(id),
        retryable: isTransientAwsError(error),
      });
    }
  }
  return { actions, left };
}

/**
 * Managed instances carrying this request's tag (a tag filter cannot be combined with others).
 * SSM filters each page, so every page is read, however few it holds.
 */
async function instancesTagged(ssm: SSMClient, requestId: string): Promise<InstanceInformation[]> {
  const found: InstanceInformation[] = [];
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: `tag:${TAG_KEYS.requestId}`, Values: [requestId] }] },
  )) {
    found.push(...(page.InstanceInformationList ?? []));
  }
  return found;
}

/** How many times a cleanup is tried, and the waits between tries (seconds). */
export const TIDY_WAITS_SECONDS = [10, 30, 90] as const;

/** Whether to try again: while something retryable is left, up to 1 + TIDY_WAITS_SECONDS.length tries. */
function nextTry(attempt: number, left: Leftover[]): { retry: boolean; nextWaitSeconds: number } {
  const wait = TIDY_WAITS_SECONDS[attempt - 1];
  const retry = wait !== undefined && left.some((l) => l.retryable);
  return { retry, nextWaitSeconds: retry ? (wait ?? 0) : 0 };
}

const DONE = /^(deleted|released|deregistered)/;

/**
 * The actions of this try, with what earlier tries did: a step that succeeded before and now finds
 * nothing ("already gone") keeps its earlier outcome, so the report says what was done.
 */
function mergeActions(earlier: CleanupAction[], now: CleanupAction[]): CleanupAction[] {
  const key = (a: CleanupAction) => `${a.action} ${a.resource}`;
  const merged = new Map(earlier.map((a) => [key(a), a]));
  for (const a of now) {
    const before = merged.get(key(a));
    merged.set(key(a), before && DONE.test(before.outcome) && !DONE.test(a.outcome) ? before : a);
  }
  return [...merged.values()];
}

/**
 * What a try hands the next (the workflow passes it back in): how many tries so far and what they
 * did. Finish and CleanUp read it from their own result, `$.finish` / `$.cleanup`.
 */
export const EarlierTrySchema = z.object({ attempt: z.number().int().min(1), cleanup: z.array(CleanupActionSchema) });
export type EarlierTry = z.infer<typeof EarlierTrySchema>;

/** This try after the earlier ones: its number, what every try did, what is left, and whether to try again. */
export function afterTry(
  earlier: EarlierTry | undefined,
  tidied: Tidied,
): { attempt: number; cleanup: CleanupAction[]; left: Leftover[]; retry: boolean; nextWaitSeconds: number } {
  const attempt = (earlier?.attempt ?? 0) + 1;
  return {
    attempt,
    cleanup: mergeActions(earlier?.cleanup ?? [], tidied.actions),
    left: tidied.left,
    ...nextTry(attempt, tidied.left),
  };
}

/** The part of an alert that names what is left, each with the command that removes it. */
export function leftoverLines(left: Leftover[], attempts: number): string[] {
  if (!left.length) return [];
  return [
    '',
    `Still there after ${attempts} cleanup attempt(s); remove by hand:`,
    ...left.flatMap((l) => [`- ${l.kind} ${l.resource}: ${l.why}`, `  ${l.remove}`]),
  ];
}
