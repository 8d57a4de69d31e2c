import { createHash } from 'node:crypto';
import type { ClusterDesiredState, RuleDesiredState } from '../desired-state/schema';
import { type Action, type Conflict, emptyPlan, type Plan } from './plan';

/** The tag that marks a Resolver rule as this project's (value: `eks-hybrid-ops/<stage>`). */
export const MANAGED_TAG = 'hybridops:managed-by';

export interface ObservedRule {
  id: string;
  arn: string;
  name?: string;
  /** Without the trailing dot Resolver writes. */
  domain: string;
  ruleType: string;
  endpointId?: string;
  targets: Array<{ ip: string; port: number }>;
  /** Tagged `MANAGED_TAG` with this stage's owner value. */
  managed: boolean;
}

export interface ObservedAssociation {
  id: string;
  ruleId: string;
  vpcId: string;
  status: string;
}

export interface ResolverObservation {
  rules: ObservedRule[];
  associations: ObservedAssociation[];
}

export const normaliseDomain = (domain: string) => domain.toLowerCase().replace(/\.$/, '');

const targetKey = (targets: Array<{ ip: string; port: number }>) =>
  targets
    .map((t) => `${t.ip}:${t.port}`)
    .sort()
    .join(',');

/** A rule name for a domain when the config gives none: `hybridops-company-local`. */
export const defaultRuleName = (domain: string) => `hybridops-${domain.replace(/[^a-z0-9]+/g, '-')}`.slice(0, 64);

/** Deterministic, so a retried CreateResolverRule is recognised as the same request. */
export function creatorRequestId(owner: string, cluster: string, domain: string): string {
  return `hybridops-${createHash('sha256').update(`${owner}\n${cluster}\n${domain}`).digest('hex').slice(0, 32)}`;
}

/**
 * Compares the declared forwarding rules of one cluster with what Resolver has, and plans the
 * difference: create a rule, update its targets or endpoint, associate it with each declared
 * VPC, disassociate it from VPCs no longer declared, and delete managed rules whose domain is no
 * longer declared (disassociating first). Only rules tagged as this project's are ever changed;
 * an unmanaged rule for a declared domain is a conflict.
 */
export function resolverPlan(input: {
  cluster: ClusterDesiredState;
  clusterVpcId: string;
  observed: ResolverObservation;
  owner: string;
}): Plan {
  const plan = emptyPlan();
  const dns = input.cluster.dns;
  if (!dns) return plan;
  const cluster = input.cluster.name;
  const forward = input.observed.rules.filter((r) => r.ruleType === 'FORWARD');
  const associationsOf = (ruleId: string) =>
    input.observed.associations.filter((a) => a.ruleId === ruleId && a.status !== 'DELETING' && a.status !== 'FAILED');

  for (const rule of dns.outbound.rules) {
    const vpcs = rule.vpcs ?? [input.clusterVpcId];
    const sameDomain = forward.filter((r) => r.domain === rule.domain);
    const managed = sameDomain.find((r) => r.managed);
    const others = sameDomain.filter((r) => !r.managed);
    plan.conflicts.push(...others.map((r) => unmanagedConflict(cluster, r)));
    if (!managed) {
      if (others.length) continue;
      planNewRule(plan, { cluster, rule, vpcs, endpointId: dns.outbound.endpointId, owner: input.owner });
      continue;
    }
    const wantTargets = rule.targets.map((t) => ({ ip: t.ip, port: t.port }));
    if (targetKey(managed.targets) !== targetKey(wantTargets) || managed.endpointId !== dns.outbound.endpointId) {
      plan.actions.push({
        type: 'update-rule',
        resource: managed.id,
        cluster,
        detail: `${rule.domain}: targets ${targetKey(managed.targets) || 'none'} via ${managed.endpointId ?? '?'} -> ${targetKey(wantTargets)} via ${dns.outbound.endpointId}`,
        params: {
          ruleId: managed.id,
          endpointId: dns.outbound.endpointId,
          targets: wantTargets.map((t) => ({ Ip: t.ip, Port: t.port })),
        },
      });
    }
    const associated = associationsOf(managed.id);
    for (const vpc of vpcs.filter((v) => !associated.some((a) => a.vpcId === v))) {
      plan.actions.push(associate(cluster, rule.domain, vpc, { ruleId: managed.id }));
    }
    for (const a of associated.filter((a) => !vpcs.includes(a.vpcId))) {
      plan.actions.push(disassociate(cluster, managed, a));
    }
  }

  // Managed rules whose domain is no longer declared: disassociate, then delete.
  const declared = new Set(dns.outbound.rules.map((r) => r.domain));
  for (const rule of forward.filter((r) => r.managed && !declared.has(r.domain))) {
    const firsts = associationsOf(rule.id).map((a) => plan.actions.push(disassociate(cluster, rule, a)) - 1);
    plan.actions.push({
      type: 'delete-rule',
      resource: rule.id,
      cluster,
      detail: `${rule.domain} is no longer declared: delete the rule`,
      params: { ruleId: rule.id },
      ...(firsts.length ? { after: firsts[firsts.length - 1] } : {}),
    });
  }
  return plan;
}

function planNewRule(
  plan: Plan,
  x: { cluster: string; rule: RuleDesiredState; vpcs: string[]; endpointId: string; owner: string },
): void {
  const created =
    plan.actions.push({
      type: 'create-rule',
      resource: x.rule.domain,
      cluster: x.cluster,
      detail: `no forwarding rule for ${x.rule.domain}: create one to ${targetKey(x.rule.targets)} via ${x.endpointId}`,
      params: {
        domain: x.rule.domain,
        name: x.rule.name ?? defaultRuleName(x.rule.domain),
        endpointId: x.endpointId,
        targets: x.rule.targets.map((t) => ({ Ip: t.ip, Port: t.port })),
        creatorRequestId: creatorRequestId(x.owner, x.cluster, x.rule.domain),
        owner: x.owner,
      },
    }) - 1;
  for (const vpc of x.vpcs) {
    plan.actions.push({ ...associate(x.cluster, x.rule.domain, vpc, { domain: x.rule.domain }), after: created });
  }
}

function associate(
  cluster: string,
  domain: string,
  vpc: string,
  rule: { ruleId: string } | { domain: string },
): Action {
  return {
    type: 'associate-rule',
    resource: `${domain}@${vpc}`,
    cluster,
    detail: `${domain} is not associated with ${vpc}: associate it`,
    params: { vpcId: vpc, ...rule },
  };
}

function disassociate(cluster: string, rule: ObservedRule, association: ObservedAssociation): Action {
  return {
    type: 'disassociate-rule',
    resource: `${rule.domain}@${association.vpcId}`,
    cluster,
    detail: `${rule.domain} is associated with ${association.vpcId}, which is not declared: disassociate it`,
    params: { ruleId: rule.id, vpcId: association.vpcId },
  };
}

function unmanagedConflict(cluster: string, rule: ObservedRule): Conflict {
  return {
    cluster,
    resource: rule.id,
    message: `Forwarding rule ${rule.id}${rule.name ? ` (${rule.name})` : ''} for ${rule.domain} exists but is not managed by eks-hybrid-ops; it was left as it is.`,
    fix: `Delete it, or tag it ${MANAGED_TAG}=<owner> to hand it over, or remove ${rule.domain} from the desired state.`,
  };
}
