import type { AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { lockParameter, ONBOARDING_TIMINGS, type Settings } from '../settings';
import { describeClusterFacts } from '../cluster/facts';
import { assertHybridAccessEntry, clusterFitProblems } from './cluster-fit';
import { acquireNodeLock } from '../node-lock';
import { assertOnboardingRequest, expiryHours } from './request';
import type { OnboardingInput, PreflightResult } from './state';

export interface PreflightDeps {
  clients: Pick<AwsClients, 'eks' | 'ec2' | 'ssm'>;
  settings: Pick<Settings, 'hybridNodesRoleName' | 'labelPrefix' | 'parameterPrefix' | 'region'>;
  clock: Clock;
}

/**
 * Checks the cluster can take this node, then takes the node's onboarding lock. Each failed
 * check throws its own named error with the fix; the lock is taken last, so a rejected request
 * leaves nothing behind.
 */
export async function preflight(deps: PreflightDeps, input: OnboardingInput): Promise<PreflightResult> {
  const startedAt = deps.clock.now().toISOString();
  const request = assertOnboardingRequest(input.request, deps.settings.labelPrefix);
  const facts = await describeClusterFacts(deps.clients, request.cluster);
  const [first] = clusterFitProblems(request, facts);
  if (first) throw first;
  await assertHybridAccessEntry(deps.clients.eks, facts, deps.settings.hybridNodesRoleName);

  const now = deps.clock.now();
  const activationExpiresAt = new Date(now.getTime() + expiryHours(request) * 3600_000).toISOString();
  const lock = lockParameter(deps.settings, request.cluster, request.node.name);
  // The lock outlives the activation by the longest the workflow can still run after registering.
  const afterRegistration =
    (ONBOARDING_TIMINGS.nodeJoinTimeoutMinutes + ONBOARDING_TIMINGS.cniGraceMinutes + 10) * 60_000;
  const lockExpiresAt = new Date(Date.parse(activationExpiresAt) + afterRegistration).toISOString();
  await acquireNodeLock(deps.clients.ssm, lock, { requestId: input.requestId, expiresAt: lockExpiresAt }, now);

  return {
    startedAt,
    checkedAt: now.toISOString(),
    clusterArn: facts.arn,
    clusterVersion: facts.version,
    kubernetesVersion: request.kubernetesVersion ?? facts.version,
    activationExpiresAt,
    lockParameter: lock,
    clusterAccess: {
      name: facts.name,
      region: deps.settings.region,
      endpoint: facts.endpoint,
      certificateAuthority: facts.certificateAuthority,
    },
  };
}
