import type { EKSClient } from '@aws-sdk/client-eks';
import {
  InstanceInformationFilterKey,
  paginateDescribeInstanceInformation,
  PingStatus,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { Clock } from '../clock';
import { NotHybridNodeError } from '../errors';
import type { NodeReaderFactory } from '../kube/types';
import { acquireNodeLock } from '../node-lock';
import { costForHours, HYBRID_VCPU_HOUR_USD, vcpusOf } from '../pricing';
import type { Settings } from '../settings';
import { describeTargetCluster } from './cluster';
import type { OffboardingInput, PrepareResult, UninstallReason } from './state';
import { resolveOffboardingTarget } from './target';
import { OFFBOARDING_TIMINGS } from './timings';

export interface PrepareDeps {
  clients: { eks: EKSClient; ssm: SSMClient };
  nodes: NodeReaderFactory;
  settings: Pick<Settings, 'region'>;
  clock: Clock;
}

/**
 * Looks at the node again before anything changes: its Node is a hybrid node of this cluster, its
 * managed instance (if still registered) carries this cluster's `EKSClusterARN`, whether its host
 * answers SSM (PingStatus), what it costs a day; then takes the node lock, the one onboarding
 * takes, so no other run changes the node meanwhile. A Node and instance both gone is not an
 * error: the run then has nothing to drain and reports the node already gone.
 */
export async function prepareOffboarding(deps: PrepareDeps, input: OffboardingInput): Promise<PrepareResult> {
  const startedAt = deps.clock.now().toISOString();
  const { request } = input;
  const cluster = await describeTargetCluster(deps.clients.eks, request.cluster, deps.settings.region);
  const nodeName = input.target.nodeName;
  const resolved = await resolveOffboardingTarget({ ssm: deps.clients.ssm, nodes: deps.nodes }, cluster, nodeName);
  if (resolved.kind === 'refused') throw new NotHybridNodeError(resolved.problem, resolved.fix);
  const target = resolved.kind === 'found' ? resolved.target : { nodeName };
  const node = 'node' in target ? target.node : undefined;
  const instance = 'instance' in target ? target.instance : undefined;
  const pingStatus = instance ? await pingStatusOf(deps.clients.ssm, instance.instanceId) : undefined;

  const uninstall = ((): { run: boolean; reason: UninstallReason } => {
    if (request.skipUninstall) return { run: false, reason: 'skipped-by-request' };
    if (!instance) return { run: false, reason: /^mi-/.test(nodeName) ? 'not-registered' : 'no-managed-instance' };
    if (pingStatus !== PingStatus.ONLINE) return { run: false, reason: 'host-offline' };
    return { run: true, reason: 'host-online' };
  })();

  // A Node whose kubelet stopped posting status on a host SSM cannot reach either: nothing on it runs.
  const down = Boolean(node) && node?.ready?.status !== 'True' && pingStatus !== PingStatus.ONLINE;
  const now = deps.clock.now();
  const after = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  // The lock outlives the longest the run can take: the drain, the command, then the rest.
  const lockExpiresAt = after(
    request.drainTimeoutSeconds + OFFBOARDING_TIMINGS.uninstallTimeoutSeconds + OFFBOARDING_TIMINGS.lockMarginSeconds,
  );
  await acquireNodeLock(
    deps.clients.ssm,
    input.resources.lockParameter,
    { requestId: input.requestId, expiresAt: lockExpiresAt, workflow: 'offboarding' },
    now,
  );
  const vcpus = vcpusOf(node?.capacity.cpu);
  return {
    startedAt,
    preparedAt: now.toISOString(),
    clusterArn: cluster.arn,
    clusterAccess: cluster.access,
    nodeName,
    onboardedName: instance?.onboardedName ?? input.target.onboardedName,
    node: {
      present: Boolean(node),
      unschedulable: node?.unschedulable ?? false,
      ready: node ? (node.ready?.status ?? 'Unknown') : 'absent',
      vcpus,
      ...(node?.kubeletVersion ? { kubeletVersion: node.kubeletVersion } : {}),
      ...(node?.internalIps[0] ? { internalIp: node.internalIps[0] } : {}),
    },
    instance: {
      id: nodeName,
      registered: Boolean(instance),
      ...(pingStatus ? { pingStatus } : {}),
      ...(instance?.requestId ? { requestId: instance.requestId } : {}),
    },
    lockParameter: input.resources.lockParameter,
    lockExpiresAt,
    drainDeadline: after(request.drainTimeoutSeconds),
    drain: down ? { run: false, reason: 'node-down' } : { run: true, reason: 'node-up' },
    maxDrainPasses: Math.ceil(
      (request.drainTimeoutSeconds + OFFBOARDING_TIMINGS.drainGraceSeconds) / OFFBOARDING_TIMINGS.drainPassWaitSeconds,
    ),
    force: request.force,
    uninstall,
    pricePerVcpuHour: HYBRID_VCPU_HOUR_USD,
    costPerDayUsd: costForHours(vcpus, 24, HYBRID_VCPU_HOUR_USD),
  };
}

/** The SSM agent's connection status (`Online`, `ConnectionLost`), or undefined when SSM does not list it. */
async function pingStatusOf(ssm: SSMClient, instanceId: string): Promise<string | undefined> {
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: InstanceInformationFilterKey.INSTANCE_IDS, Values: [instanceId] }] },
  )) {
    const found = page.InstanceInformationList?.find((i) => i.InstanceId === instanceId);
    if (found) return found.PingStatus;
  }
  return undefined;
}
