import type { AwsClients } from '../aws/clients';
import { type ClusterFacts, describeClusterFacts } from '../cluster/facts';
import type { ClusterDesiredState, DesiredState } from '../desired-state/schema';
import { observeEfs } from '../efs/observe';
import type { RunStore } from '../store';
import { clusterOwner, type ReconcileContext } from './context';
import { mountTargetDirectory } from './efs-aws';
import { efsPlan } from './efs-plan';
import { inboundEndpointFindings } from './inbound-endpoint';
import { mergePlans, type Plan } from './plan';
import { observeResolver } from './resolver-aws';
import { resolverPlan } from './resolver-plan';
import { type PlanRef, savePlan } from './run-store';

/**
 * Planning against what AWS has now, one kind at a time (the two Plan branches of
 * statemachines/reconcile-network.asl.json) or both (planAll). Nothing here changes anything.
 */

export type PlanKind = 'resolver' | 'efs';

/** What planning the Resolver side reads: the cluster, Resolver, and the inbound endpoint's subnets. */
export type ResolverPlanClients = Pick<AwsClients, 'eks' | 'ec2' | 'resolver'>;
/** What planning the EFS side reads: the cluster, its subnets and security group rules, EFS. */
export type EfsPlanClients = Pick<AwsClients, 'eks' | 'ec2' | 'efs'>;
/** What planning both reads. */
export type ReconcileClients = ResolverPlanClients & EfsPlanClients;

/** One cluster's forwarding rules and associations, and the health of its inbound endpoint. */
async function clusterResolverPlan(
  clients: ResolverPlanClients,
  ctx: ReconcileContext,
  cluster: ClusterDesiredState,
  facts: ClusterFacts,
): Promise<Plan> {
  const dns = cluster.dns;
  if (!dns) return mergePlans();
  // Rules are owned per cluster, so two clusters of one stage never change each other's rules.
  const owner = clusterOwner(ctx, cluster.name);
  const observed = await observeResolver(clients.resolver, { domains: dns.outbound.rules.map((r) => r.domain), owner });
  const plans = [resolverPlan({ cluster, clusterVpcId: facts.vpcId ?? '', observed, owner })];
  if (dns.inbound) {
    plans.push({ actions: [], conflicts: [], findings: await inboundEndpointFindings(clients, cluster) });
  }
  return mergePlans(...plans);
}

/** One cluster's mount targets and NFS rules, with where on-prem hosts mount it now. */
async function clusterEfsPlan(
  clients: EfsPlanClients,
  cluster: ClusterDesiredState,
  facts: ClusterFacts,
): Promise<Plan> {
  if (!cluster.efs) return mergePlans();
  const observed = await observeEfs(clients, { efs: cluster.efs, cluster: facts });
  return {
    ...efsPlan({ cluster, observed }),
    mountTargets: [{ cluster: cluster.name, ...mountTargetDirectory(cluster.efs, observed.mountTargets) }],
  };
}

/** Plans one cluster: its Resolver rules and/or its EFS side, against what AWS has now. */
export async function planCluster(
  clients: ReconcileClients,
  ctx: ReconcileContext,
  cluster: ClusterDesiredState,
  kinds: readonly PlanKind[] = ['resolver', 'efs'],
): Promise<Plan> {
  const wantsDns = Boolean(cluster.dns) && kinds.includes('resolver');
  const wantsEfs = Boolean(cluster.efs) && kinds.includes('efs');
  if (!wantsDns && !wantsEfs) return mergePlans();
  const facts = await describeClusterFacts(clients, cluster.name);
  return mergePlans(
    ...(wantsDns ? [await clusterResolverPlan(clients, ctx, cluster, facts)] : []),
    ...(wantsEfs ? [await clusterEfsPlan(clients, cluster, facts)] : []),
  );
}

/** Plans every declared cluster (of the given kinds). */
export async function planAll(
  clients: ReconcileClients,
  ctx: ReconcileContext,
  state: DesiredState,
  kinds: readonly PlanKind[] = ['resolver', 'efs'],
): Promise<Plan> {
  const plans: Plan[] = [];
  for (const cluster of state.clusters) plans.push(await planCluster(clients, ctx, cluster, kinds));
  return mergePlans(...plans);
}

/** Step PlanResolver: every declared cluster's Resolver side, planned; the plan goes to the run store. */
export async function planResolver(
  deps: { clients: ResolverPlanClients; ctx: ReconcileContext; store: RunStore },
  input: { runId: string; desired: DesiredState },
): Promise<PlanRef> {
  const plans: Plan[] = [];
  for (const cluster of input.desired.clusters.filter((c) => c.dns)) {
    const facts = await describeClusterFacts(deps.clients, cluster.name);
    plans.push(await clusterResolverPlan(deps.clients, deps.ctx, cluster, facts));
  }
  return savePlan(deps.store, input.runId, 'resolver', mergePlans(...plans));
}

/** Step PlanEfs: every declared cluster's EFS side, planned; the plan goes to the run store. */
export async function planEfs(
  deps: { clients: EfsPlanClients; store: RunStore },
  input: { runId: string; desired: DesiredState },
): Promise<PlanRef> {
  const plans: Plan[] = [];
  for (const cluster of input.desired.clusters.filter((c) => c.efs)) {
    const facts = await describeClusterFacts(deps.clients, cluster.name);
    plans.push(await clusterEfsPlan(deps.clients, cluster, facts));
  }
  return savePlan(deps.store, input.runId, 'efs', mergePlans(...plans));
}
