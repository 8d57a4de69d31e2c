import {
  GetParameterCommand,
  ParameterNotFound,
  ParameterTier,
  ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { stringify } from 'yaml';
import type { Clock } from '../clock';
import type { Taint } from '../domain/kubernetes';
import { ActivationCodeMissingError } from '../errors';
import { NODE_CONFIG_DIR, NODE_CONFIG_PATH, NODE_CONFIG_SOURCE } from '../node-lifecycle/nodeadm';
import { requestLabelKey, requestParameters, type Settings } from '../settings';
import type { OnboardingRequest } from './request';
import type { NodeConfigResult } from './state';

/** The GPU taint of the seed's GPU NodeConfig (REFERENCE.md section 1). */
export const GPU_TAINT: Taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
/**
 * The seed's nvidia containerd runtime (REFERENCE.md section 1) plus `SystemdCgroup = true`, which
 * the seed omits. nodeadm writes kubelet `cgroupDriver: systemd` and sets `SystemdCgroup = true`
 * only on its default runc runtime; `spec.containerd.config` is a drop-in imported over that
 * config (aws/eks-hybrid internal/kubelet/config.go, internal/containerd/config.template.toml and
 * config.go). Without it, pods of the nvidia runtime would run under cgroupfs beside a systemd
 * kubelet: two cgroup managers on one node.
 */
export const NVIDIA_CONTAINERD_CONFIG = `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
    privileged_without_host_devices = false
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
      BinaryName = "/usr/bin/nvidia-container-runtime"
      SystemdCgroup = true
`;
export const DEFAULT_MAX_PODS = 110;
/** SSM Standard parameters hold 4 KB; a larger NodeConfig needs the Advanced tier. */
const STANDARD_PARAMETER_BYTES = 4096;

export interface RenderInput {
  request: OnboardingRequest;
  requestId: string;
  region: string;
  labelPrefix: string;
  activation: { id: string; code: string };
}

/** The node labels the kubelet registers with: the user's, the GPU ones, and the request label. */
export function nodeLabels(input: Omit<RenderInput, 'activation' | 'region'>): Record<string, string> {
  const { request } = input;
  const gpu: Record<string, string> = request.gpu
    ? { 'node-type': 'hybrid', gpu: request.gpu.model, 'gpu-count': String(request.gpu.count) }
    : {};
  return { ...gpu, ...request.labels, [requestLabelKey(input)]: input.requestId };
}

export function nodeTaints(request: OnboardingRequest): Taint[] {
  const taints = [...(request.taints ?? [])];
  if (request.gpu && !taints.some((t) => t.key === GPU_TAINT.key)) taints.push(GPU_TAINT);
  return taints;
}

const formatTaint = (t: Taint) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/**
 * Renders the `node.eks.aws/v1alpha1` NodeConfig that `nodeadm init` reads. The only secret in it
 * is the activation code, so the result is only ever stored as a SecureString or a 0600 file.
 */
export function nodeConfigYaml(input: RenderInput): string {
  const labels = Object.entries(nodeLabels(input)).map(([k, v]) => `${k}=${v}`);
  const taints = nodeTaints(input.request).map(formatTaint);
  const flags = [`--node-labels=${labels.join(',')}`];
  if (taints.length) flags.push(`--register-with-taints=${taints.join(',')}`);
  const spec: Record<string, unknown> = {
    cluster: { name: input.request.cluster, region: input.region },
    hybrid: { ssm: { activationCode: input.activation.code, activationId: input.activation.id } },
    kubelet: {
      config: { maxPods: input.request.maxPods ?? DEFAULT_MAX_PODS, shutdownGracePeriod: '30s' },
      flags,
    },
  };
  if (input.request.gpu) spec.containerd = { config: NVIDIA_CONTAINERD_CONFIG };
  return stringify({ apiVersion: 'node.eks.aws/v1alpha1', kind: 'NodeConfig', spec }, { lineWidth: 0 });
}

/**
 * The commands the team runs on the server, in the directory holding the fetched nodeConfig.yaml.
 * The first moves it to {@link NODE_CONFIG_PATH} (root, 0600, in a 0700 directory), where `nodeadm
 * init` reads it and a later `nodeadm upgrade` finds it again: nodeadm keeps no copy of its own, and
 * an upgrade must get the NodeConfig the node was initialised with (lib/node-lifecycle/nodeadm.ts).
 * The file keeps the activation code, spent once the server registers (the activation allows one
 * registration and FinishOnboarding deletes it); nodeadm upgrade still checks the field is there.
 */
export function nodeadmCommands(kubernetesVersion: string): string[] {
  return [
    `sudo install -d -m 0700 ${NODE_CONFIG_DIR} && sudo install -m 0600 nodeConfig.yaml ${NODE_CONFIG_PATH} && rm -f nodeConfig.yaml`,
    `sudo nodeadm install ${kubernetesVersion} --credential-provider ssm`,
    `sudo nodeadm init -c ${NODE_CONFIG_SOURCE}`,
  ];
}

/** What `GET /nodes/{id}/nodeconfig` hands the team, stored whole as one SecureString. */
export interface NodeConfigHandout {
  nodeConfig: string;
  commands: string[];
}

export interface RenderNodeConfigDeps {
  ssm: SSMClient;
  settings: Pick<Settings, 'parameterPrefix' | 'region' | 'labelPrefix'>;
  clock: Clock;
}

/**
 * Reads the activation code from its parameter, renders the NodeConfig with it, and stores the
 * result with the nodeadm commands as one SecureString for `GET /nodes/{id}/nodeconfig`. Returns
 * only the parameter's name and the commands (no secret in them).
 */
export async function renderNodeConfig(
  deps: RenderNodeConfigDeps,
  input: { request: OnboardingRequest; requestId: string; activationId: string; kubernetesVersion: string },
): Promise<NodeConfigResult> {
  const names = requestParameters(deps.settings, input.requestId);
  let code: string | undefined;
  try {
    const answer = await deps.ssm.send(new GetParameterCommand({ Name: names.activationCode, WithDecryption: true }));
    code = answer.Parameter?.Value;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  if (!code) {
    throw new ActivationCodeMissingError(
      `The activation code parameter ${names.activationCode} is gone.`,
      'Submit the onboarding again; a new activation will be issued.',
    );
  }
  const yaml = nodeConfigYaml({
    request: input.request,
    requestId: input.requestId,
    region: deps.settings.region,
    labelPrefix: deps.settings.labelPrefix,
    activation: { id: input.activationId, code },
  });
  const commands = nodeadmCommands(input.kubernetesVersion);
  const handout: NodeConfigHandout = { nodeConfig: yaml, commands };
  const value = JSON.stringify(handout);
  const bytes = Buffer.byteLength(value, 'utf8');
  await deps.ssm.send(
    new PutParameterCommand({
      Name: names.nodeConfig,
      Type: ParameterType.SECURE_STRING,
      Value: value,
      Overwrite: true,
      Tier: bytes > STANDARD_PARAMETER_BYTES ? ParameterTier.ADVANCED : ParameterTier.STANDARD,
      Description: `nodeadm NodeConfig for onboarding request ${input.requestId}`,
    }),
  );
  return {
    parameterName: names.nodeConfig,
    renderedAt: deps.clock.now().toISOString(),
    bytes,
    commands,
  };
}
