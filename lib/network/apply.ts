import type { AwsClients } from '../aws/clients';
import { isTransientAwsError, StoreError } from '../errors';
import type { RunStore } from '../store';
import { applyEfsAction, mountTargetOutcome } from './efs-aws';
import { type Action, isWaiting, type Outcome, succeeded } from './plan';
import type { ReconcileContext } from './context';
import { applyResolverAction, associationOutcome, ruleUpdateOutcome } from './resolver-aws';
import {
  type ApplyProgress,
  loadPlan,
  type OutcomeJournal,
  type OutcomeRecord,
  outcomeJournal,
  type PlanRef,
  SETTLE_ROUNDS,
  SETTLE_WAIT_SECONDS,
} from './run-store';

/** What applying changes: Resolver rules and associations, EFS mount targets and their security group. */
export type ApplyClients = Pick<AwsClients, 'ec2' | 'efs' | 'resolver'>;

/**
 * The apply step, as statemachines/reconcile-network.asl.json loops it: each invocation applies up
 * to APPLY_BATCH actions of the stored plan, recording each outcome as it goes; the first pass
 * applies, later passes (SETTLE_WAIT_SECONDS apart) look again at what AWS is still doing (an
 * association CREATING, a rule UPDATING, a mount target creating, a rule whose associations are
 * still DELETING).
 * What is still at work after SETTLE_ROUNDS passes is deferred to the next run, and said so.
 */

/** Actions one invocation works on (an action is one or two AWS calls and one small write). */
export const APPLY_BATCH = 100;
/** Outcomes the state may carry while the store refuses them (about 300 bytes each). */
export const MAX_UNSAVED = 3 * APPLY_BATCH;

export async function applyNetworkPlan(
  deps: { clients: ApplyClients; ctx: ReconcileContext; store: RunStore },
  input: { runId: string; plans: PlanRef[]; progress: ApplyProgress },
): Promise<ApplyProgress> {
  const { actions } = await loadPlan(deps.store, input.plans);
  const journal = outcomeJournal(deps.store, input.runId, input.progress.unsaved);
  if ((input.progress.unsaved?.length ?? 0) >= MAX_UNSAVED) {
    // The state must not grow past 256 KiB: stop applying while the store will not take outcomes.
    const still = await journal.flush();
    if (still.length >= MAX_UNSAVED) {
      throw new StoreError(
        `The run store has refused the outcomes of ${still.length} applied actions; they are kept in the execution state and no more actions are applied.`,
        'Check that the apply function may write to the run store bucket (s3:PutObject on runs/*), then run the reconciliation again.',
      );
    }
  }
  let { cursor, waiting } = input.progress;
  const { round } = input.progress;
  let worked = 0;
  let unreadable: unknown;
  while (cursor < actions.length && worked < APPLY_BATCH) {
    const index = cursor;
    try {
      const earlier = await journal.get(index);
      if (!earlier || isWaiting(earlier.outcome)) {
        let record = await applyOne(deps, actions, index, journal, earlier);
        if (isWaiting(record.outcome) && round >= SETTLE_ROUNDS) record = defer(record);
        if (isWaiting(record.outcome)) waiting += 1;
        await journal.set(index, record);
        worked += 1;
      }
    } catch (error) {
      // Only reading the run store throws here, before this action touched AWS: stop, keep what
      // is done, and take this action up again in the next invocation.
      unreadable = error;
      break;
    }
    cursor += 1;
  }
  // What the store would not take travels in the state: applying it again would be untrue.
  const unsaved = await journal.flush();
  if (unreadable !== undefined && worked === 0) throw unreadable;
  const total = actions.length;
  const carry = unsaved.length ? { unsaved } : {};
  if (cursor < total) return { cursor, round, waiting, next: 'apply', waitSeconds: 0, total, ...carry };
  if (waiting > 0 && round < SETTLE_ROUNDS) {
    return { cursor: 0, round: round + 1, waiting: 0, next: 'wait', waitSeconds: SETTLE_WAIT_SECONDS, total, ...carry };
  }
  return { cursor, round, waiting: 0, next: 'done', waitSeconds: 0, total, ...carry };
}

const defer = (record: OutcomeRecord): OutcomeRecord => ({
  ...record,
  outcome: `deferred: ${record.outcome.replace(/^waiting: /, '')} after ${SETTLE_ROUNDS} looks ${SETTLE_WAIT_SECONDS} s apart; the next run finishes it`,
});

/**
 * Applies one action, or looks again at one AWS is still doing. An action whose prerequisite
 * failed is skipped; one whose prerequisite is still at work waits with it. NFS access is never
 * revoked while the access meant to replace it could not be granted.
 */
async function applyOne(
  deps: { clients: ApplyClients; ctx: ReconcileContext },
  actions: Action[],
  index: number,
  journal: OutcomeJournal,
  earlier: OutcomeRecord | undefined,
): Promise<OutcomeRecord> {
  const action = actions[index] as Action;
  if (earlier?.wait === 'association' || earlier?.wait === 'mount-target' || earlier?.wait === 'rule-update') {
    return { ...earlier, ...(await lookAgain(deps.clients, action, earlier)) };
  }
  const prerequisite = action.after === undefined ? undefined : await journal.get(action.after);
  if (action.after !== undefined) {
    const needed = actions[action.after];
    const what = `${needed?.type} ${needed?.resource}`;
    if (isWaiting(prerequisite?.outcome))
      return { outcome: `waiting: it needs ${what}, which AWS is still doing`, wait: 'prerequisite' };
    if (!succeeded(prerequisite?.outcome)) return { outcome: `skipped: it needs ${what}, which did not succeed` };
  }
  // A rule cannot go while any of its associations stays: every disassociation must have worked.
  if (action.type === 'delete-rule') {
    const failed = await earlierFailed(actions, index, journal, 'disassociate-rule', 'ruleId');
    if (failed) return { outcome: `skipped: it needs ${failed.type} ${failed.resource}, which did not succeed` };
  }
  if (action.type === 'revoke-nfs') {
    const failed = await earlierFailed(actions, index, journal, 'authorize-nfs', 'groupId');
    if (failed) return { outcome: `skipped: ${failed.resource} could not be allowed first, so nothing is revoked` };
  }
  const created = new Map<string, string>();
  if (prerequisite?.ruleId) created.set(String(action.params.domain), prerequisite.ruleId);
  let outcome: Outcome;
  try {
    outcome = action.type.endsWith('-rule')
      ? await applyResolverAction(deps.clients.resolver, action, created)
      : await applyEfsAction(deps.clients, action, deps.ctx.owner);
  } catch (error) {
    const e = error as Error;
    outcome = `failed: ${e.name}: ${e.message}`;
  }
  const ruleId = action.params.ruleId ? String(action.params.ruleId) : created.get(String(action.params.domain));
  return {
    outcome,
    ...(ruleId ? { ruleId } : {}),
    ...(isWaiting(outcome) ? { wait: WAIT_OF[action.type] ?? 'prerequisite' } : {}),
  };
}

/** The first action before `index` of `type` on the same `param` that did not succeed, if any. */
async function earlierFailed(
  actions: Action[],
  index: number,
  journal: OutcomeJournal,
  type: Action['type'],
  param: string,
): Promise<Action | undefined> {
  const action = actions[index] as Action;
  for (const [i, other] of actions.slice(0, index).entries()) {
    if (other.type !== type || other.params[param] !== action.params[param]) continue;
    if (!succeeded((await journal.get(i))?.outcome)) return other;
  }
  return undefined;
}

const WAIT_OF: Partial<Record<Action['type'], OutcomeRecord['wait']>> = {
  'update-rule': 'rule-update',
  'associate-rule': 'association',
  'create-mount-target': 'mount-target',
  'delete-rule': 'in-use',
};

/**
 * Whether what AWS was doing for an action is done: the association COMPLETE, the rule updated,
 * the mount target available. A look that fails for a moment keeps it waiting; one that is
 * refused fails it.
 */
async function lookAgain(clients: ApplyClients, action: Action, earlier: OutcomeRecord): Promise<{ outcome: Outcome }> {
  try {
    if (earlier.wait === 'association' && earlier.ruleId) {
      return { outcome: await associationOutcome(clients.resolver, earlier.ruleId, String(action.params.vpcId)) };
    }
    if (earlier.wait === 'rule-update') {
      return { outcome: await ruleUpdateOutcome(clients.resolver, String(action.params.ruleId)) };
    }
    return {
      outcome: await mountTargetOutcome(
        clients.efs,
        String(action.params.fileSystemId),
        String(action.params.availabilityZone),
      ),
    };
  } catch (error) {
    if (isTransientAwsError(error)) return { outcome: earlier.outcome };
    const e = error as Error;
    return { outcome: `failed: could not see how it stands: ${e.name}: ${e.message}` };
  }
}
