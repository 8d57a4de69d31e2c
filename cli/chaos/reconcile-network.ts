import type { NetworkReport } from '#lib/network/report';
import { withServices } from '#lib/sandbox/index';
import { type SandboxCall, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { reconcileContext } from '#lib/settings';
import { sandboxLocalRuntime } from '../local-runtime';
import { runPrepared } from '../local-run';
import { reconcileNetwork } from '../workflows/reconcile-network';
import {
  alertText,
  answersLost,
  type ChaosWorkflow,
  commonInvariants,
  messageCounts,
  type Outcome,
  storeRefused,
} from './engine';

/**
 * The network reconciler under chaos: the sandbox's seeded drift (a managed rule with a wrong
 * target and no association, a missing mount target, NFS open too wide) and an unmanaged rule
 * beside it; mostly an apply, sometimes the scheduled plan.
 */

const MANAGED_TAG = 'hybridops:managed-by';

export const reconcileNetworkChaos: ChaosWorkflow = {
  name: 'reconcile-network',
  // 0: apply; 1: plan only.
  variants: 2,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const local = { ...sandboxLocalRuntime(estate, home), estate };
    const kind = variant ?? (r.chance(0.8) ? 0 : 1);
    const mode = kind === 0 ? 'apply' : 'plan';
    const prepared = await reconcileNetwork.prepare(
      JSON.stringify({ mode, trigger: mode === 'plan' ? 'schedule' : 'api' }),
      local,
    );
    if (!prepared.ok) throw new Error(`the chaos input was rejected: ${prepared.problems.join('; ')}`);
    const owner = `${reconcileContext(local.runtime.settings).owner}/`;
    const network = estate.state.network;
    return {
      local,
      workflow: reconcileNetwork,
      input: prepared.input,
      facts: {
        mode,
        // What this stage may change: rules tagged as its own, and the declared EFS and security group.
        managedRules: network.resolverRules.filter((rule) => managedBy(rule.tags, owner)).map((rule) => rule.id),
        owner,
        fileSystems: network.fileSystems.map((f) => f.id),
        groups: [...new Set(network.securityGroupRules.map((g) => g.groupId))],
      },
      variant: kind,
    };
  },

  async check(outcome) {
    const broken = [...commonInvariants(outcome), ...touchesOnlyManaged(outcome), ...reportsTruly(outcome)];
    const { result, alerts } = outcome;
    const undelivered = result.error?.name === 'AlertDeliveryError';
    const messages = messageCounts(outcome);
    if (result.status === 'FAILED' && !undelivered && messages.distinct !== 1) {
      broken.push(`a failed reconciliation sends exactly one alert (${messages.distinct} were sent)`);
    }
    if (result.status === 'SUCCEEDED' && messages.distinct > 1) {
      broken.push(`a reconciliation sends at most one alert (${messages.distinct} were sent)`);
    }
    if (messages.repeated.length && !messages.ambiguous)
      broken.push(`an alert goes out once (${messages.repeated.join('; ')})`);
    if (result.status === 'FAILED' && !undelivered && alerts.length === 0)
      broken.push('a failed reconciliation alerts');
    if (outcome.arranged.facts.mode === 'apply') broken.push(...(await convergesClean(outcome)));
    return broken;
  },
};

const managedBy = (tags: Array<{ Key: string; Value: string }>, owner: string) =>
  tags.some((t) => t.Key === MANAGED_TAG && t.Value.startsWith(owner));

/** The run changed only what this stage manages: its own rules, the declared file system and security group. */
function touchesOnlyManaged(outcome: Outcome): string[] {
  const facts = outcome.arranged.facts as { managedRules: string[]; fileSystems: string[]; groups: string[] };
  const ours = new Set(facts.managedRules);
  // Rules this run created are its own too.
  for (const call of outcome.calls) {
    if (call.command === 'CreateResolverRule' && call.outcome && /^(ok|lost)/.test(call.outcome)) {
      const created = outcome.estate.state.network.resolverRules.find(
        (r) => r.creatorRequestId === call.input?.CreatorRequestId,
      );
      if (created) ours.add(created.id);
    }
  }
  const broken: string[] = [];
  const changed = (c: SandboxCall) => c.task !== undefined && c.outcome !== undefined && /^(ok|lost)/.test(c.outcome);
  for (const call of outcome.calls.filter(changed)) {
    const input = call.input ?? {};
    const rule = input.ResolverRuleId as string | undefined;
    if (
      ['UpdateResolverRule', 'AssociateResolverRule', 'DisassociateResolverRule', 'DeleteResolverRule'].includes(
        call.command,
      ) &&
      rule &&
      !ours.has(rule)
    ) {
      broken.push(`reconcile touches no unmanaged resource (${call.command} on ${rule})`);
    }
    const group = input.GroupId as string | undefined;
    if (/SecurityGroupIngress$/.test(call.command) && group && !facts.groups.includes(group)) {
      broken.push(`reconcile touches no unmanaged resource (${call.command} on ${group})`);
    }
    const fs = input.FileSystemId as string | undefined;
    if (call.command === 'CreateMountTarget' && fs && !facts.fileSystems.includes(fs)) {
      broken.push(`reconcile touches no unmanaged resource (CreateMountTarget on ${fs})`);
    }
    if (call.service === 'ssm' && call.command === 'PutParameter' && !String(input.Name).includes('/efs/')) {
      broken.push(`reconcile writes only its mount-target parameters (PutParameter ${String(input.Name)})`);
    }
  }
  return broken;
}

/** The run store's copy of what the run reported or recorded: the whole report, or the outcome journal. */
function storedReport(outcome: Outcome): NetworkReport | undefined {
  const objects = outcome.estate.state.objects[sandboxStoreBucket(outcome.estate.seed.account)] ?? {};
  const key = Object.keys(objects).find((k) => /^runs\/reconcile-.*\/report\.json$/.test(k));
  return key ? (JSON.parse(objects[key] as string) as NetworkReport) : undefined;
}

/**
 * Outcomes are true: an action the run itself did (AWS answered it) is never reported as "already
 * done", and when the run failed after changing things, its alert lists those changes. Outcomes
 * live in the run store, or in the state while the store refuses them: when it refused them and
 * the Apply answer carrying them was lost too, nothing holds them, and the retry cannot tell the
 * run's own change from one in place (README, "How a run keeps its plans and outcomes").
 */
function reportsTruly(outcome: Outcome): string[] {
  const broken: string[] = [];
  const report = storedReport(outcome);
  const done = (command: string, match: (input: Record<string, unknown>) => boolean) =>
    outcome.calls.some((c) => c.command === command && c.outcome === 'ok' && match(c.input ?? {}));
  const unrecoverable = storeRefused(outcome, 'ApplyNetworkPlan') && answersLost(outcome, 'ApplyNetworkPlan') > 0;
  for (const action of unrecoverable ? [] : (report?.actions ?? [])) {
    if (action.outcome !== 'already-done') continue;
    const p = action.params;
    const didIt =
      (action.type === 'update-rule' && done('UpdateResolverRule', (i) => i.ResolverRuleId === p.ruleId)) ||
      (action.type === 'authorize-nfs' &&
        done('AuthorizeSecurityGroupIngress', (i) => JSON.stringify(i.IpPermissions).includes(String(p.cidr)))) ||
      (action.type === 'revoke-nfs' &&
        done('RevokeSecurityGroupIngress', (i) => JSON.stringify(i.SecurityGroupRuleIds).includes(String(p.ruleId)))) ||
      (action.type === 'create-mount-target' && done('CreateMountTarget', (i) => i.SubnetId === p.subnetId)) ||
      (action.type === 'associate-rule' && done('AssociateResolverRule', (i) => i.VPCId === p.vpcId));
    if (didIt)
      broken.push(
        `outcomes are reported truly (${action.type} ${action.resource}: this run did it, not "already done")`,
      );
  }
  const { result } = outcome;
  if (
    result.status === 'FAILED' &&
    result.error?.name !== 'AlertDeliveryError' &&
    result.error?.name !== 'NetworkActionsFailedError'
  ) {
    const text = alertText(outcome.alerts);
    const changedByApply = outcome.calls.filter(
      (c) =>
        c.task === 'ApplyNetworkPlan' &&
        c.outcome === 'ok' &&
        /^(Update|Associate|Disassociate|Delete|Create|Authorize|Revoke)/.test(c.command),
    );
    if (changedByApply.length && !/Changes this run made:|could not be read/.test(text)) {
      broken.push(
        `outcomes survive a later failure: the failure alert lists the ${changedByApply.length} change(s) the run made`,
      );
    }
  }
  return broken;
}

/**
 * With the faults gone and AWS given time to finish, a clean apply converges, and a plan after it
 * finds nothing to do.
 */
async function convergesClean(outcome: Outcome): Promise<string[]> {
  const { local } = outcome.arranged;
  local.estate.advance(3600);
  const apply = await runPrepared(reconcileNetwork, local, { mode: 'apply', trigger: 'chaos-check' });
  const applied = apply.output as NetworkReport | undefined;
  if (apply.status !== 'SUCCEEDED')
    return [`a clean apply after the run succeeds (it ${apply.status} with ${apply.error?.name})`];
  local.estate.advance(3600);
  const plan = await runPrepared(reconcileNetwork, local, { mode: 'plan', trigger: 'chaos-check' });
  const planned = (plan.output as NetworkReport | undefined)?.actionsTotal;
  return planned === 0
    ? []
    : [
        `a second clean apply plans nothing (${planned} action(s) still planned after one with ${applied?.actionsTotal} action(s))`,
      ];
}
