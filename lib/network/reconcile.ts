import {
  GetResolverEndpointCommand,
  ResolverEndpointDirection,
  ResolverEndpointStatus,
  ResourceNotFoundException,
} from '@aws-sdk/client-route53resolver';
import type { AwsClients } from '../aws/clients';
import { describeClusterFacts } from '../cluster/facts';
import type { ClusterDesiredState, DesiredState } from '../desired-state/schema';
import { observeEfs, observeMountTargets } from '../efs/observe';
import { mountTargetDirectory, publishMountTargets } from './efs-aws';
import { planEfs } from './efs-plan';
import { type Finding, mergePlans, type Plan } from './plan';
import { type PlanRef, savePlan } from './run-store';
import type { RunStore } from '../store';
import { endpointAddresses, isServing } from '../net/resolver-endpoints';
import { observeResolver } from './resolver-aws';
import { planResolver } from './resolver-plan';
import { subnetZones } from '../vpc/subnets';

/** What planning reads: the cluster, its subnets, Resolver and EFS. */
export type ReconcileClients = Pick<AwsClients, 'eks' | 'ec2' | 'efs' | 'resolver'>;

export interface ReconcileContext {
  /** `eks-hybrid-ops/<stage>`: the value of the managed-by tag on what this stage creates. */
  owner: string;
  /** SSM path under which each cluster's mount-target directory is published. */
  parameterPrefix: string;
}

/** The managed-by tag value of what this stage creates for one cluster. */
export const clusterOwner = (ctx: ReconcileContext, cluster: string) => `${ctx.owner}/${cluster}`;

export type PlanKind = 'resolver' | 'efs';

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
  const plans: Plan[] = [];
  if (cluster.dns && wantsDns) {
    // Rules are owned per cluster, so two clusters of one stage never change each other's rules.
    const owner = clusterOwner(ctx, cluster.name);
    const observed = await observeResolver(clients.resolver, {
      domains: cluster.dns.outbound.rules.map((r) => r.domain),
      owner,
    });
    plans.push(planResolver({ cluster, clusterVpcId: facts.vpcId ?? '', observed, owner }));
    if (cluster.dns.inbound) {
      plans.push({ actions: [], conflicts: [], findings: await inboundEndpointFindings(clients, cluster) });
    }
  }
  if (cluster.efs && wantsEfs) {
    const observed = await observeEfs(clients, { efs: cluster.efs, cluster: facts });
    plans.push({
      ...planEfs({ cluster, observed }),
      mountTargets: [{ cluster: cluster.name, ...mountTargetDirectory(cluster.efs, observed.mountTargets) }],
    });
  }
  return mergePlans(...plans);
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

/** Steps PlanResolver and PlanEfs: one kind's plan for every declared cluster, kept in the run store. */
export async function planStep(
  deps: { clients: ReconcileClients; ctx: ReconcileContext; store: RunStore },
  input: { runId: string; desired: DesiredState; kind: PlanKind },
): Promise<PlanRef> {
  const plan = await planAll(deps.clients, deps.ctx, input.desired, [input.kind]);
  return savePlan(deps.store, input.runId, input.kind, plan);
}

/**
 * The inbound endpoint on-prem DNS forwards to: it must exist, be an INBOUND endpoint, be
 * OPERATIONAL and have IPs in at least two AZs. Reported, never changed.
 */
export async function inboundEndpointFindings(
  clients: Pick<AwsClients, 'resolver' | 'ec2'>,
  cluster: ClusterDesiredState,
): Promise<Finding[]> {
  const id = cluster.dns?.inbound?.endpointId;
  if (!id) return [];
  const finding = (message: string, fix: string): Finding => ({
    cluster: cluster.name,
    severity: 'critical',
    resource: id,
    message,
    fix,
  });
  let endpoint;
  try {
    endpoint = (await clients.resolver.send(new GetResolverEndpointCommand({ ResolverEndpointId: id })))
      .ResolverEndpoint;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return [
        finding(
          `Inbound endpoint ${id} does not exist.`,
          'Create it (two subnets in two AZs) or fix dns.inbound.endpointId.',
        ),
      ];
    }
    throw error;
  }
  const findings: Finding[] = [];
  if (endpoint?.Direction !== ResolverEndpointDirection.Inbound) {
    findings.push(
      finding(
        `Endpoint ${id} is ${endpoint?.Direction ?? 'of no direction'}, not INBOUND.`,
        'Point dns.inbound.endpointId at the INBOUND endpoint.',
      ),
    );
  }
  if (endpoint?.Status !== ResolverEndpointStatus.Operational) {
    findings.push(
      finding(
        `Inbound endpoint ${id} is ${endpoint?.Status ?? 'in no state'}, not OPERATIONAL: on-prem cannot resolve AWS names through it.`,
        `Check it in the Route 53 Resolver console; status message: ${endpoint?.StatusMessage ?? 'none'}.`,
      ),
    );
  }
  const all = await endpointAddresses(clients.resolver, id);
  const addresses = all.filter(isServing);
  const notServing = all.filter((a) => !isServing(a));
  const ips = addresses.map((a) => a.ip);
  const subnets = addresses.flatMap((a) => (a.subnetId ? [a.subnetId] : []));
  const azs = new Set((await subnetZones(clients.ec2, subnets)).map((s) => s.availabilityZone));
  if (azs.size < 2) {
    const others = notServing.map(
      (a) => `${a.ip}${a.subnetId ? ` (${a.subnetId})` : ''} is ${a.status ?? 'in no state'}`,
    );
    findings.push(
      finding(
        `Inbound endpoint ${id} has IPs (${ips.join(', ') || 'none'}) in ${azs.size} AZ(s); it needs at least two to survive an AZ outage.` +
          (others.length ? ` Not serving (only ATTACHED addresses answer): ${others.join('; ')}.` : ''),
        others.length
          ? 'Wait for those addresses to become ATTACHED, or replace a failed one; make sure the ATTACHED ones cover two AZs.'
          : 'Add an IP address in a subnet of a second AZ.',
      ),
    );
  }
  return findings;
}

/** Publishes each cluster's mount-target directory; unchanged ones are not written. */
export async function publishAll(clients: Pick<AwsClients, 'efs' | 'ssm'>, ctx: ReconcileContext, state: DesiredState) {
  const published: Array<{
    cluster: string;
    parameter: string;
    result: 'published' | 'unchanged';
    directory: unknown;
  }> = [];
  for (const cluster of state.clusters) {
    if (!cluster.efs) continue;
    const directory = mountTargetDirectory(
      cluster.efs,
      await observeMountTargets(clients.efs, cluster.efs.fileSystemId),
    );
    const parameter = `${ctx.parameterPrefix}/efs/${cluster.name}/mount-targets`;
    published.push({
      cluster: cluster.name,
      parameter,
      result: await publishMountTargets(clients.ssm, parameter, directory),
      directory,
    });
  }
  return published;
}
