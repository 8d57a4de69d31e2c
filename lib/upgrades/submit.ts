import { DescribeClusterCommand, type EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { kubeletSkewProblem, parseKubernetesVersion } from '../domain/kubernetes';
import { ClientTokenReusedError, RequestRejectedError } from '../errors';
import { executionArn, startExecutionOnce } from '../executions';
import { lockParameter, type Settings } from '../settings';
import { UPGRADE_TIMINGS } from './limits';
import {
  deriveUpgradeId,
  type Problem,
  parseUpgradeBody,
  requestDigest,
  type UpgradeRequest,
  UpgradeRequestSchema,
} from './request';
import type { UpgradeInput } from './state';

export interface UpgradeSubmitDeps {
  clients: { sfn: SFNClient; eks: EKSClient };
  settings: Pick<Settings, 'clusterName' | 'upgradeStateMachineArn' | 'parameterPrefix' | 'region'>;
}

/** The upgrade's execution, named by its id. */
export const upgradeExecutionArn = executionArn;

export function requireUpgradeStateMachine(settings: { upgradeStateMachineArn?: string }): string {
  if (!settings.upgradeStateMachineArn) {
    throw new Error('UPGRADE_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  }
  return settings.upgradeStateMachineArn;
}

export type UpgradeValidation =
  | { ok: true; request: UpgradeRequest; target: string; controlPlaneVersion: string }
  | { ok: false; problems: Problem[] };

/** The cluster's version (major.minor), and the problems of the request with it as it is now. */
async function clusterProblems(
  deps: Pick<UpgradeSubmitDeps, 'clients' | 'settings'>,
  probe: Pick<UpgradeRequest, 'cluster' | 'kubernetesVersion'>,
): Promise<{ version?: string; problems: Problem[] }> {
  const { cluster } = probe;
  if (cluster !== deps.settings.clusterName) {
    return {
      problems: [
        { field: 'cluster', message: `this deployment upgrades nodes of '${deps.settings.clusterName}' only` },
      ],
    };
  }
  let answer: Awaited<ReturnType<typeof describe>>;
  try {
    answer = await describe(deps.clients.eks, cluster);
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    return {
      problems: [{ field: 'cluster', message: `EKS cluster '${cluster}' does not exist in this account and Region` }],
    };
  }
  if (answer.cluster?.status !== 'ACTIVE') {
    const status = answer.cluster?.status ?? 'in an unknown state';
    return {
      problems: [
        {
          field: 'cluster',
          message: `cluster '${cluster}' is ${status}, not ACTIVE: wait until its update ends, then submit again`,
        },
      ],
    };
  }
  const version = versionOf(answer.cluster.version ?? '');
  const problem = probe.kubernetesVersion ? targetProblem(probe.kubernetesVersion, version, cluster) : undefined;
  return { version, problems: problem ? [problem] : [] };
}

const describe = (eks: EKSClient, name: string) => eks.send(new DescribeClusterCommand({ name }));

/**
 * The target against the control plane: not newer (EKS user guide, "Upgrade hybrid nodes": the
 * target "must be equal to or less than the Amazon EKS control plane version"), and within the
 * three minors a kubelet may lag it.
 */
function targetProblem(target: string, controlPlane: string, cluster: string): Problem | undefined {
  const problem = kubeletSkewProblem(target, controlPlane);
  if (!problem) return undefined;
  const want = parseKubernetesVersion(target);
  const have = parseKubernetesVersion(controlPlane);
  const newer = want && have && (want.major > have.major || (want.major === have.major && want.minor > have.minor));
  const fix = newer
    ? `upgrade the control plane first (aws eks update-cluster-version --name ${cluster} --kubernetes-version ${target}), or leave kubernetesVersion out for ${controlPlane}`
    : `choose a version from ${controlPlane} down to three minors below it, or leave kubernetesVersion out for ${controlPlane}`;
  return {
    field: 'kubernetesVersion',
    message: `${target} is ${newer ? 'newer than' : 'too far behind'} the ${controlPlane} control plane (${problem}); ${fix}`,
  };
}

/**
 * Validates an upgrade body: its shape, then against this stage and the cluster as it is now (the
 * target not newer than the control plane). Lists every problem; the cluster's too when only
 * other fields are malformed. Shared by `POST /upgrades` and the local runner.
 */
export async function validateUpgradeSubmission(
  deps: Pick<UpgradeSubmitDeps, 'clients' | 'settings'>,
  body: string | null | undefined,
): Promise<UpgradeValidation> {
  const parsed = parseUpgradeBody(body);
  if (!parsed.ok) {
    const probe = wellFormedParts(body);
    if (!probe) return parsed;
    const more = await clusterProblems(deps, probe);
    return { ok: false, problems: [...parsed.problems, ...more.problems] };
  }
  const checked = await clusterProblems(deps, parsed.request);
  if (checked.problems.length || !checked.version) return { ok: false, problems: checked.problems };
  return {
    ok: true,
    request: parsed.request,
    target: parsed.request.kubernetesVersion ?? checked.version,
    controlPlaneVersion: checked.version,
  };
}

/** major.minor of a control plane version (EKS reports it so already). */
const versionOf = (version: string) => {
  const v = parseKubernetesVersion(version);
  return v ? `${v.major}.${v.minor}` : version;
};

/** The well-formed cluster (and version, if well-formed) of a body that failed validation, to check them too. */
function wellFormedParts(
  body: string | null | undefined,
): Pick<UpgradeRequest, 'cluster' | 'kubernetesVersion'> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const fields = raw as Record<string, unknown>;
  const shape = UpgradeRequestSchema.shape;
  const cluster = shape.cluster.safeParse(fields.cluster);
  if (!cluster.success) return undefined;
  const version = shape.kubernetesVersion.safeParse(fields.kubernetesVersion);
  return { cluster: cluster.data, kubernetesVersion: version.success ? version.data : undefined };
}

/** The commands that find what a run may have left, quoted by its last-resort alert. */
export function manualCheck(
  settings: Pick<Settings, 'parameterPrefix' | 'region'>,
  cluster: string,
  upgradeId: string,
  target: string,
): { lockPath: string; manualCheck: string } {
  const lockPath = lockParameter(settings, cluster, '').replace(/\/$/, '');
  return {
    lockPath,
    manualCheck: [
      `- nodes left cordoned: kubectl get nodes -o wide | grep SchedulingDisabled; once one is Ready at ${target}, kubectl uncordon <node>`,
      `- node locks this upgrade holds: aws ssm get-parameters-by-path --region ${settings.region} --path ${lockPath} --query "Parameters[?contains(Value, '${upgradeId}')].Name" --output text; remove each with aws ssm delete-parameter --region ${settings.region} --name <name>`,
    ].join('\n'),
  };
}

/** The execution input for a validated request, every default resolved. */
export function upgradeExecutionInput(
  validated: { request: UpgradeRequest; target: string },
  requester: string,
  settings: Pick<Settings, 'parameterPrefix' | 'region'>,
): UpgradeInput {
  const { request, target } = validated;
  const upgradeId = deriveUpgradeId(request, target);
  return {
    upgradeId,
    requester,
    requestDigest: requestDigest({ ...request, kubernetesVersion: target }),
    request: {
      cluster: request.cluster,
      kubernetesVersion: target,
      ...(request.nodes ? { nodes: request.nodes } : {}),
      ...(request.selector ? { selector: request.selector } : {}),
      maxUnavailable: request.maxUnavailable ?? 1,
      force: request.force ?? false,
      drainTimeoutSeconds: request.drainTimeoutSeconds ?? UPGRADE_TIMINGS.defaultDrainTimeoutSeconds,
    },
    resources: manualCheck(settings, request.cluster, upgradeId, target),
  };
}

/** An upgrade started (or found started by the same request): where to follow it. */
export interface SubmittedUpgrade {
  upgradeId: string;
  executionArn: string;
  existing: boolean;
  cluster: string;
  kubernetesVersion: string;
  statusUrl: string;
}

/**
 * `POST /upgrades`: validates the request and refuses it with every problem listed before
 * anything starts; then starts the upgrade execution named by the upgrade id. The same client
 * token and body again is the same upgrade; another body under that token is
 * {@link ClientTokenReusedError}.
 */
export async function submitUpgrade(
  deps: UpgradeSubmitDeps,
  input: { body: string | null | undefined; requester: string; baseUrl: string },
): Promise<SubmittedUpgrade> {
  const validation = await validateUpgradeSubmission(deps, input.body);
  if (!validation.ok) {
    throw new RequestRejectedError(
      `The upgrade request has ${validation.problems.length} problem(s); nothing was started.`,
      { details: { problems: validation.problems } },
    );
  }
  const started = upgradeExecutionInput(validation, input.requester, deps.settings);
  const { upgradeId } = started;
  const stateMachineArn = requireUpgradeStateMachine(deps.settings);
  const accepted = (arn: string, existing: boolean): SubmittedUpgrade => ({
    upgradeId,
    executionArn: arn,
    existing,
    cluster: started.request.cluster,
    kubernetesVersion: started.request.kubernetesVersion,
    statusUrl: `${input.baseUrl}/upgrades/${upgradeId}`,
  });
  // The same name again: a retried POST (same body), or a reused token (another body).
  const execution = await startExecutionOnce(deps.clients.sfn, stateMachineArn, upgradeId, started);
  if (execution) return accepted(execution.executionArn, execution.existing);
  throw new ClientTokenReusedError(
    `clientToken '${validation.request.clientToken}' was already used for a different upgrade (${upgradeId}); nothing was started.`,
    { details: { upgradeId }, fix: 'Use a new clientToken for a new upgrade, or send exactly the same body to retry.' },
  );
}
