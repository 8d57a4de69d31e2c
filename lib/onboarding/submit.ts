import type { AwsClients } from '../aws/clients';
import { ClientTokenReusedError, ClusterNotFoundError, type HybridOpsError, RequestRejectedError } from '../errors';
import { gpuCheckNamespace, lockParameter, requestParameters, type Settings } from '../settings';
import { startExecutionOnce } from '../executions';
import { requireStateMachine } from './api';
import { describeClusterFacts } from '../cluster/facts';
import { clusterFitProblems } from './cluster-fit';
import {
  deriveRequestId,
  type OnboardingRequest,
  OnboardingRequestSchema,
  type Problem,
  parseOnboardingBody,
  requestDigest,
} from './request';
import type { OnboardingInput } from './state';
import { smokeTestPodName } from './gpu-verification';
import { manualCleanup } from './leftovers';
import { quotaProblem, readManagedInstanceQuota } from '../ssm-quota';

/** Which request field each cluster-fit error is about, for the 400's problem list. */
const FIELD_OF_ERROR: Record<string, string> = {
  UnsupportedOperatingSystemError: 'node.os',
  NodeIpOutsideRemoteNodeNetworkError: 'node.ip',
  PodCidrOutsideRemotePodNetworkError: 'node.podCidr',
  KubernetesVersionSkewError: 'kubernetesVersion',
};

const toProblem = (error: HybridOpsError): Problem => ({
  field: FIELD_OF_ERROR[error.name] ?? 'cluster',
  message: error.message,
});

const invalid = (problems: Problem[]) =>
  new RequestRejectedError(`The onboarding request has ${problems.length} problem(s); nothing was started.`, {
    details: { problems },
  });

/** An onboarding started (or found started by the same request): where the team follows it. */
export interface SubmittedOnboarding {
  requestId: string;
  executionArn: string;
  /** True when the same request had started it already. */
  existing: boolean;
  statusUrl: string;
  nodeConfigUrl: string;
}

export interface SubmitDeps {
  clients: Pick<AwsClients, 'sfn' | 'eks' | 'ec2' | 'ssm'>;
  settings: Pick<Settings, 'clusterName' | 'labelPrefix' | 'onboardStateMachineArn' | 'parameterPrefix' | 'region'>;
}

export type Validation = { ok: true; request: OnboardingRequest } | { ok: false; problems: Problem[] };

type ValidateDeps = Pick<SubmitDeps, 'clients'> & { settings: Pick<Settings, 'clusterName' | 'labelPrefix'> };

/**
 * Validates an onboarding body: its shape, and against this stage, the cluster as it is now and
 * SSM's limit on on-prem managed instances (the standard tier's 1,000 per account and Region).
 * Lists every problem, including cluster-fit problems of the fields that are well-formed when
 * others are not. Shared by `POST /nodes` and the local runner. Besides DescribeCluster and
 * DescribeVpcs, a well-formed request costs one GetServiceSetting and one
 * DescribeInstanceInformation per 50 registered on-prem instances.
 */
export async function validateSubmission(deps: ValidateDeps, body: string | null | undefined): Promise<Validation> {
  const parsed = parseOnboardingBody(body, deps.settings.labelPrefix);
  if (parsed.ok) {
    const problems = await clusterProblems(deps, parsed.request);
    return problems.length ? { ok: false, problems } : parsed;
  }
  const probe = probeRequest(body);
  if (!probe) return parsed;
  const reported = new Set(parsed.problems.map((p) => p.field));
  const more = await clusterProblems(deps, probe.request, { quota: false }).catch(() => []); // best effort: the shape problems stand
  return {
    ok: false,
    problems: [...parsed.problems, ...more.filter((p) => probe.wellFormed.has(p.field) && !reported.has(p.field))],
  };
}

/** Problems of a well-formed request with this stage, its cluster and (unless told not to) SSM's tier. */
async function clusterProblems(
  deps: ValidateDeps,
  request: OnboardingRequest,
  options = { quota: true },
): Promise<Problem[]> {
  if (request.cluster !== deps.settings.clusterName) {
    return [{ field: 'cluster', message: `this deployment onboards nodes into '${deps.settings.clusterName}' only` }];
  }
  let fit: Problem[];
  try {
    const facts = await describeClusterFacts(deps.clients, request.cluster);
    fit = clusterFitProblems(request, facts).map(toProblem);
  } catch (error) {
    if (error instanceof ClusterNotFoundError) return [toProblem(error)];
    throw error;
  }
  if (!options.quota) return fit;
  // The server registers one more on-prem managed instance: refused now rather than at nodeadm init.
  const full = quotaProblem(await readManagedInstanceQuota(deps.clients.ssm), 1);
  return full ? [...fit, { field: 'node', message: full }] : fit;
}

/**
 * From a body that failed validation, a request built of its well-formed cluster-related fields
 * (stand-ins for the rest), and which fields those were; undefined without a well-formed cluster.
 */
function probeRequest(
  body: string | null | undefined,
): { request: OnboardingRequest; wellFormed: Set<string> } | undefined {
  let raw: { cluster?: unknown; node?: Record<string, unknown>; kubernetesVersion?: unknown };
  try {
    raw = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const shape = OnboardingRequestSchema.shape;
  const cluster = shape.cluster.safeParse(raw.cluster);
  if (!cluster.success) return undefined;
  const node = raw.node && typeof raw.node === 'object' ? raw.node : {};
  const wellFormed = new Set<string>(['cluster']);
  const field = <T>(
    name: string,
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
    value: unknown,
  ) => {
    const result = schema.safeParse(value);
    if (result.success && value !== undefined) wellFormed.add(name);
    return result.success ? result.data : undefined;
  };
  const nodeShape = shape.node.shape;
  const ip = field<string>('node.ip', nodeShape.ip, node.ip);
  const os = field<string>('node.os', nodeShape.os, node.os);
  const podCidr = field<string | undefined>('node.podCidr', nodeShape.podCidr, node.podCidr);
  const kubernetesVersion = field<string | undefined>(
    'kubernetesVersion',
    shape.kubernetesVersion,
    raw.kubernetesVersion,
  );
  return {
    // Stand-ins are never reported: only problems of well-formed fields are kept.
    request: {
      cluster: cluster.data,
      node: { name: 'probe', ip: ip ?? '0.0.0.0', os: os ?? 'ubuntu-22.04', podCidr },
      kubernetesVersion,
    },
    wellFormed,
  };
}

/**
 * The execution input for a validated request. A fleet gives each member's request id (derived
 * from the fleet) and its place in the fleet (`fleet`); a single request derives its own id.
 */
export function executionInput(
  request: OnboardingRequest,
  requester: string,
  settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region' | 'gpuCheckNamespace'>,
  member: { requestId?: string; fleet?: { fleetId: string; index: number } } = {},
): OnboardingInput {
  const requestId = member.requestId ?? deriveRequestId(request);
  const target = {
    requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
    ...(request.gpu?.smokeTest
      ? { smokeTestPod: { namespace: gpuCheckNamespace(settings), name: smokeTestPodName(requestId) } }
      : {}),
  };
  return {
    requestId,
    requester,
    requestDigest: requestDigest(request),
    request,
    resources: {
      lockParameter: lockParameter(settings, request.cluster, request.node.name),
      parameterPath: requestParameters(settings, requestId).base,
      manualCleanup: manualCleanup(settings, target),
    },
    ...(member.fleet ? { fleet: member.fleet } : {}),
  };
}

/**
 * `POST /nodes`: validates the request (shape, then against the cluster) and refuses it with every
 * problem listed ({@link RequestRejectedError}) before anything starts; then starts the onboarding
 * execution named by the request id. The same client token and body again is the same request; a
 * different body under the same token is {@link ClientTokenReusedError}.
 */
export async function submitOnboarding(
  deps: SubmitDeps,
  input: { body: string | null | undefined; requester: string; baseUrl: string },
): Promise<SubmittedOnboarding> {
  const validation = await validateSubmission(deps, input.body);
  if (!validation.ok) throw invalid(validation.problems);
  const request = validation.request;
  const started = executionInput(request, input.requester, deps.settings);
  const { requestId } = started;
  const stateMachineArn = requireStateMachine(deps.settings);
  const accepted = (arn: string, existing: boolean): SubmittedOnboarding => ({
    requestId,
    executionArn: arn,
    existing,
    statusUrl: `${input.baseUrl}/nodes/${requestId}`,
    nodeConfigUrl: `${input.baseUrl}/nodes/${requestId}/nodeconfig`,
  });
  // The same name again: a retried POST (same body), or a reused token (different body).
  const execution = await startExecutionOnce(deps.clients.sfn, stateMachineArn, requestId, started);
  if (execution) return accepted(execution.executionArn, execution.existing);
  throw new ClientTokenReusedError(
    `clientToken '${request.clientToken}' was already used for a different request (${requestId}); nothing was started.`,
    { details: { requestId }, fix: 'Use a new clientToken for a new request, or send exactly the same body to retry.' },
  );
}
