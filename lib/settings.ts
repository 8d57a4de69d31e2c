import * as z from 'zod';

/**
 * Timings of the onboarding workflow. Registration polls back off from `firstWait` to `maxWait`
 * (the SSM agent heartbeats every 5 minutes, so polling faster than that buys little).
 */
export const ONBOARDING_TIMINGS = {
  registrationFirstWaitSeconds: 15,
  registrationMaxWaitSeconds: 300,
  backoffRate: 2,
  nodeFirstWaitSeconds: 10,
  nodeMaxWaitSeconds: 60,
  /** After the server registers, how long its Node has to appear. */
  nodeJoinTimeoutMinutes: 30,
  /** A Node that is NotReady only for want of a CNI is reported after this long, not failed. */
  cniGraceMinutes: 10,
} as const;

const SettingsSchema = z.object({
  STAGE: z.string().min(1),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'AWS_REGION must be a region such as ap-northeast-2'),
  CLUSTER_NAME: z.string().min(1),
  HYBRID_NODES_ROLE_NAME: z.string().min(1),
  PARAMETER_PREFIX: z
    .string()
    .regex(/^\/[A-Za-z0-9_.\-/]+[^/]$/, 'PARAMETER_PREFIX must be a path such as /hybridops/dev'),
  LABEL_PREFIX: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'LABEL_PREFIX must be a DNS subdomain'),
  ALERT_TOPIC_ARN: z.string().optional(),
  ONBOARD_STATE_MACHINE_ARN: z.string().optional(),
  OFFBOARD_STATE_MACHINE_ARN: z.string().optional(),
  RECONCILE_STATE_MACHINE_ARN: z.string().optional(),
  UPGRADE_STATE_MACHINE_ARN: z.string().optional(),
  FLEET_STATE_MACHINE_ARN: z.string().optional(),
  RESOLUTION_CHECKS: z.enum(['true', 'false']).optional(),
  CONNECTIVITY_PROBES: z.enum(['true', 'false']).optional(),
  STORE_BUCKET: z.string().optional(),
  GPU_CHECK_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'GPU_CHECK_NAMESPACE must be a Kubernetes namespace name')
    .optional(),
});

/** The one namespace the GPU smoke test may create and delete pods in (deploy/kubernetes/gpu-check-rbac.yaml). */
export const DEFAULT_GPU_CHECK_NAMESPACE = 'hybridops-gpu-checks';

/** Settings of one deployed stage, read once from the Lambda environment (serverless.yml). */
export interface Settings {
  stage: string;
  region: string;
  /** The cluster this stage onboards nodes into (IAM is scoped to it). */
  clusterName: string;
  /** The hybrid nodes IAM role NAME (with path, if any), as CreateActivation wants it. */
  hybridNodesRoleName: string;
  /** SSM parameter path under which per-request secrets and locks live. */
  parameterPrefix: string;
  /** Prefix of the labels this project sets on Nodes, e.g. `hybridops.io/request-id`. */
  labelPrefix: string;
  alertTopicArn?: string;
  onboardStateMachineArn?: string;
  offboardStateMachineArn?: string;
  reconcileStateMachineArn?: string;
  upgradeStateMachineArn?: string;
  fleetStateMachineArn?: string;
  /** Whether the DNS resolution check runs (its function must then be in the cluster VPC). */
  resolutionChecks?: boolean;
  /** Whether the nightly sweep probes on-prem paths (its probe function must then be in the cluster VPC). */
  connectivityProbes?: boolean;
  /** The S3 bucket the nightly sweep keeps its inventory, findings and alert memory in. */
  storeBucket?: string;
  /** Where the GPU smoke test runs its pods; {@link DEFAULT_GPU_CHECK_NAMESPACE} when unset. */
  gpuCheckNamespace?: string;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`The function's environment is incomplete (${problems}); serverless.yml sets these variables.`);
  }
  const e = parsed.data;
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    clusterName: e.CLUSTER_NAME,
    hybridNodesRoleName: e.HYBRID_NODES_ROLE_NAME,
    parameterPrefix: e.PARAMETER_PREFIX,
    labelPrefix: e.LABEL_PREFIX,
    alertTopicArn: e.ALERT_TOPIC_ARN || undefined,
    onboardStateMachineArn: e.ONBOARD_STATE_MACHINE_ARN || undefined,
    offboardStateMachineArn: e.OFFBOARD_STATE_MACHINE_ARN || undefined,
    reconcileStateMachineArn: e.RECONCILE_STATE_MACHINE_ARN || undefined,
    upgradeStateMachineArn: e.UPGRADE_STATE_MACHINE_ARN || undefined,
    fleetStateMachineArn: e.FLEET_STATE_MACHINE_ARN || undefined,
    resolutionChecks: e.RESOLUTION_CHECKS === 'true',
    connectivityProbes: e.CONNECTIVITY_PROBES === 'true',
    storeBucket: e.STORE_BUCKET || undefined,
    gpuCheckNamespace: e.GPU_CHECK_NAMESPACE || DEFAULT_GPU_CHECK_NAMESPACE,
  };
}

/** Names of the SSM parameters that belong to one onboarding request. */
export function requestParameters(settings: Pick<Settings, 'parameterPrefix'>, requestId: string) {
  const base = `${settings.parameterPrefix}/onboarding/${requestId}`;
  return { base, activationCode: `${base}/activation-code`, nodeConfig: `${base}/node-config` };
}

/** The lock parameter that keeps two onboardings of one node name in one cluster apart. */
export function lockParameter(settings: Pick<Settings, 'parameterPrefix'>, cluster: string, nodeName: string): string {
  return `${settings.parameterPrefix}/locks/${cluster}/${nodeName}`;
}

export function requestLabelKey(settings: Pick<Settings, 'labelPrefix'>): string {
  return `${settings.labelPrefix}/request-id`;
}

/** The SSM parameter CloudFormation writes the stage's network desired state to. */
export const desiredStateParameter = (settings: Pick<Settings, 'parameterPrefix'>) =>
  `${settings.parameterPrefix}/desired-state/network`;

/** What this stage's reconciler creates is tagged `hybridops:managed-by=eks-hybrid-ops/<stage>[/<cluster>]`. */
export const reconcileContext = (settings: Pick<Settings, 'stage' | 'parameterPrefix'>) => ({
  owner: `eks-hybrid-ops/${settings.stage}`,
  parameterPrefix: settings.parameterPrefix,
});

/** The namespace of the GPU smoke test's pods. */
export const gpuCheckNamespace = (settings: Pick<Settings, 'gpuCheckNamespace'>) =>
  settings.gpuCheckNamespace ?? DEFAULT_GPU_CHECK_NAMESPACE;
