import * as z from 'zod';
import type { Clock } from '../clock';
import type { ClusterAccess, KubeApiFactory, KubeNode, NodeReaderFactory } from '../kube/types';
import { gpuCheckNamespace, requestLabelKey, type Settings } from '../settings';
import { backoffSeconds } from './backoff';

/**
 * After a GPU node's Node is Ready: are its GPUs usable? `status.allocatable["nvidia.com/gpu"]`
 * appears only once the NVIDIA device plugin (or the GPU operator) runs on the node (REFERENCE.md
 * sections 1 and 8; Kubernetes device plugins:
 * https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/), so
 * the workflow looks, backing off, until it equals the GPUs asked for or the bound passes. Then,
 * if asked, a pod runs `nvidia-smi` on that node. Nothing here fails a joined node: what it finds
 * is a verdict, and the run a success with a warning.
 */

export const GPU_VERDICTS = ['verified', 'no-device-plugin', 'gpus-missing', 'not-checked'] as const;
export type GpuVerdict = (typeof GPU_VERDICTS)[number];

/**
 * How the workflow waits for the device plugin. It is a DaemonSet: once the Node is Ready its pod
 * is scheduled, pulls its image and registers the GPUs with the kubelet (the GPU operator first
 * builds or loads the driver and the container toolkit), which takes seconds to a few minutes. Ten
 * minutes covers that with room to spare, and a node whose plugin never comes is reported the same
 * day, not after the activation's days. 15 s doubling to 60 s: about 12 looks in all.
 */
export const GPU_WAIT = {
  firstWaitSeconds: 15,
  maxWaitSeconds: 60,
  backoffRate: 2,
  /** From the Node turning Ready until the GPUs are reported as they are. */
  timeoutSeconds: 600,
} as const;

/**
 * The smoke test's pod: CUDA's base image carries `nvidia-smi` through the NVIDIA Container
 * Toolkit, which mounts the driver's tools into the container. It needs one GPU and tolerates the
 * GPU taint the NodeConfig sets. The pod ends within `activeDeadlineSeconds` once it runs (the
 * kubelet fails it with DeadlineExceeded), and the workflow gives up on a pod that has not ended
 * (say, never scheduled) after `timeoutSeconds`.
 */
export const SMOKE_TEST = {
  image: 'nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04',
  activeDeadlineSeconds: 180,
  timeoutSeconds: 300,
  firstWaitSeconds: 10,
  maxWaitSeconds: 30,
  /** The log is read from its start, at most this many bytes, and its first lines kept. */
  logLimitBytes: 8192,
  logLines: 12,
} as const;

/** The smoke test's pod of a request: the same name on every try, so a retried create and Finish find it. */
export const smokeTestPodName = (requestId: string) => `gpu-smoke-${requestId}`;

export const GpuCheckStateSchema = z.object({
  settled: z.boolean(),
  attempt: z.number().int().min(0),
  nextWaitSeconds: z.number().int().min(0),
  requested: z.number().int().min(1).optional(),
  allocatable: z.number().int().min(0).nullable().optional(),
  capacity: z.number().int().min(0).nullable().optional(),
  verdict: z.enum(GPU_VERDICTS).optional(),
  detail: z.string().optional(),
  checkedAt: z.string().optional(),
});
export type GpuCheckState = z.infer<typeof GpuCheckStateSchema>;

export const SMOKE_TEST_OUTCOMES = ['passed', 'failed', 'timed-out'] as const;

export const SmokeTestStateSchema = z.object({
  namespace: z.string(),
  pod: z.string(),
  startedAt: z.string(),
  attempt: z.number().int().min(0),
  nextWaitSeconds: z.number().int().min(0),
  done: z.boolean(),
  /** The workflow deleted the pod (Finish deletes it otherwise). */
  deleted: z.boolean(),
  outcome: z.enum(SMOKE_TEST_OUTCOMES).optional(),
  detail: z.string().optional(),
  logHead: z.array(z.string()).optional(),
});
export type SmokeTestState = z.infer<typeof SmokeTestStateSchema>;

const count = (value: string | undefined): number | null => {
  if (value === undefined) return null;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/** What the NVIDIA device plugin needs, for a detail that tells what to deploy (REFERENCE.md sections 1 and 8). */
export const DEVICE_PLUGIN_FIX =
  'Deploy the NVIDIA device plugin (helm upgrade -i nvdp nvdp/nvidia-device-plugin -n nvidia-device-plugin --create-namespace, tolerating nvidia.com/gpu=present:NoSchedule) or the NVIDIA GPU operator; the host needs NVIDIA driver 550.x or newer, containerd 1.6 or newer and the NVIDIA Container Toolkit; the chart may need Node Feature Discovery labels.';

export interface GpuCheckInput {
  clusterAccess: ClusterAccess;
  /** The Node's name: the managed-instance id. */
  nodeName: string;
  /** The server's name, as the team knows the host. */
  serverName: string;
  requested: number;
  /** When the workflow saw the Node Ready: the bound counts from here. */
  readyAt: string;
  previous?: GpuCheckState;
}

/**
 * One look at the Node's GPUs. Done when `allocatable` reaches the GPUs asked for (`verified`);
 * past the bound, `no-device-plugin` when the Node shows none at all, `gpus-missing` when it shows
 * fewer (fewer GPUs on the host, or some the plugin reports unhealthy); `not-checked` when the Node
 * is gone or NotReady at the bound (the plugin's pod cannot run there).
 */
export async function checkGpus(
  deps: { nodes: NodeReaderFactory; clock: Clock },
  input: GpuCheckInput,
): Promise<GpuCheckState> {
  const node = await deps.nodes(input.clusterAccess).getNode(input.nodeName);
  const now = deps.clock.now();
  const attempt = (input.previous?.attempt ?? 0) + 1;
  const base = { attempt, requested: input.requested, checkedAt: now.toISOString() };
  const settle = (verdict: GpuVerdict, detail: string, n?: KubeNode): GpuCheckState => ({
    ...base,
    settled: true,
    nextWaitSeconds: 0,
    // A Node without nvidia.com/gpu has none to give: 0, not unknown.
    allocatable: n ? (count(n.allocatable.gpu) ?? 0) : null,
    capacity: n ? (count(n.capacity.gpu) ?? 0) : null,
    verdict,
    detail,
  });
  if (!node) {
    return settle('not-checked', `Node ${input.nodeName} was no longer there when its GPUs were checked.`);
  }
  const allocatable = count(node.allocatable.gpu) ?? 0;
  const capacity = count(node.capacity.gpu) ?? 0;
  if (allocatable >= input.requested) {
    return settle(
      'verified',
      `${allocatable} of ${input.requested} GPUs allocatable (nvidia.com/gpu) on Node ${input.nodeName}.`,
      node,
    );
  }
  const waited = Math.round((now.getTime() - Date.parse(input.readyAt)) / 1000);
  const left = GPU_WAIT.timeoutSeconds - waited;
  if (left > 0) {
    const wait = backoffSeconds(attempt, GPU_WAIT.firstWaitSeconds, GPU_WAIT.maxWaitSeconds, GPU_WAIT.backoffRate);
    return {
      ...base,
      settled: false,
      nextWaitSeconds: Math.max(1, Math.min(wait, left)),
      allocatable,
      capacity,
    };
  }
  const minutes = Math.round(GPU_WAIT.timeoutSeconds / 60);
  if (node.ready?.status !== 'True') {
    return settle(
      'not-checked',
      `Node ${input.nodeName} was NotReady ${minutes} minutes after it first turned Ready, so the NVIDIA device plugin cannot run there; fix the Ready condition (kubectl describe node ${input.nodeName}), then check kubectl get node ${input.nodeName} -o jsonpath='{.status.allocatable.nvidia\\.com/gpu}'.`,
      node,
    );
  }
  if (allocatable === 0 && capacity === 0) {
    return settle(
      'no-device-plugin',
      `Node ${input.nodeName} (${input.serverName}) shows no nvidia.com/gpu ${minutes} minutes after it turned Ready: the NVIDIA device plugin or the GPU operator is not running on it. ${DEVICE_PLUGIN_FIX}`,
      node,
    );
  }
  const unhealthy =
    capacity > allocatable
      ? ` (${capacity} in capacity: the device plugin reports ${capacity - allocatable} unhealthy)`
      : '';
  return settle(
    'gpus-missing',
    `Node ${input.nodeName} shows ${allocatable} of ${input.requested} GPUs allocatable${unhealthy}: ${input.requested - allocatable} GPU(s) are not usable on host ${input.serverName}. On the host run nvidia-smi (is every GPU listed?) and dmesg (Xid or "fallen off the bus" errors); then restart the device plugin's pod on the node.`,
    node,
  );
}

export interface SmokeTestTarget {
  clusterAccess: ClusterAccess;
  requestId: string;
  nodeName: string;
}

type SmokeDeps = {
  nodes: KubeApiFactory;
  clock: Clock;
  settings: Pick<Settings, 'gpuCheckNamespace' | 'labelPrefix'>;
};

/**
 * Starts the smoke test: a pod that runs `nvidia-smi` on the Node (its `kubernetes.io/hostname`
 * label, the Node's name), tolerating the GPU taint, limited to one GPU, never restarted. A pod of
 * that name already there is this request's (a retried create whose answer was lost).
 */
export async function startSmokeTest(deps: SmokeDeps, target: SmokeTestTarget): Promise<SmokeTestState> {
  const namespace = gpuCheckNamespace(deps.settings);
  const pod = smokeTestPodName(target.requestId);
  await deps.nodes(target.clusterAccess).createPod(namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'hybridops-gpu-smoke-test',
        [requestLabelKey(deps.settings)]: target.requestId,
      },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: SMOKE_TEST.activeDeadlineSeconds,
      nodeSelector: { 'kubernetes.io/hostname': target.nodeName },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [
        {
          name: 'nvidia-smi',
          image: SMOKE_TEST.image,
          command: ['nvidia-smi'],
          resources: { limits: { 'nvidia.com/gpu': '1' } },
        },
      ],
    },
  });
  return {
    namespace,
    pod,
    startedAt: deps.clock.now().toISOString(),
    attempt: 0,
    nextWaitSeconds: SMOKE_TEST.firstWaitSeconds,
    done: false,
    deleted: false,
  };
}

/** The log's first lines, without trailing blanks. */
function head(log: string | undefined): string[] {
  if (!log) return [];
  const lines = log.split('\n').map((l) => l.replace(/\s+$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(0, SMOKE_TEST.logLines);
}

/**
 * One look at the smoke test's pod. Once it has ended, its log's first lines are kept and the pod
 * deleted: `passed` when it Succeeded, `failed` otherwise. A pod that has not ended by the bound
 * is deleted and `timed-out`, with the scheduler's reason when it never ran.
 */
export async function checkSmokeTest(
  deps: { nodes: KubeApiFactory; clock: Clock },
  input: { clusterAccess: ClusterAccess; nodeName: string; smokeTest: SmokeTestState },
): Promise<SmokeTestState> {
  const api = deps.nodes(input.clusterAccess);
  const { namespace, pod } = input.smokeTest;
  const attempt = input.smokeTest.attempt + 1;
  const run = await api.getPod(namespace, pod);
  const done = async (outcome: SmokeTestState['outcome'], detail: string, logHead: string[]) => {
    await api.deletePod(namespace, pod);
    return { ...input.smokeTest, attempt, nextWaitSeconds: 0, done: true, deleted: true, outcome, detail, logHead };
  };
  if (!run) return done('failed', `The smoke-test pod ${namespace}/${pod} disappeared before it ended.`, []);
  if (run.phase === 'Succeeded' || run.phase === 'Failed') {
    const logHead = head(await api.readPodLog(namespace, pod, SMOKE_TEST.logLimitBytes));
    if (run.phase === 'Succeeded') {
      return done('passed', `nvidia-smi ran on Node ${input.nodeName} and exited 0.`, logHead);
    }
    const exit = run.terminated
      ? `exited ${run.terminated.exitCode}${run.terminated.reason ? ` (${run.terminated.reason})` : ''}`
      : `failed (${run.reason ?? 'no reason given'})`;
    const first = logHead.find((l) => l.trim()) ?? run.message ?? '';
    return done(
      'failed',
      `nvidia-smi ${exit} on Node ${input.nodeName}${first ? `: ${first}` : ''}. On the host, check the NVIDIA driver and the Container Toolkit (nvidia-smi, nvidia-ctk --version), reboot after a driver upgrade, then run the pod again.`,
      logHead,
    );
  }
  const waited = Math.round((deps.clock.now().getTime() - Date.parse(input.smokeTest.startedAt)) / 1000);
  const left = SMOKE_TEST.timeoutSeconds - waited;
  if (left > 0) {
    const wait = backoffSeconds(attempt, SMOKE_TEST.firstWaitSeconds, SMOKE_TEST.maxWaitSeconds, 2);
    return { ...input.smokeTest, attempt, nextWaitSeconds: Math.max(1, Math.min(wait, left)) };
  }
  const why =
    run.phase === 'Pending'
      ? `it was never scheduled${run.unschedulable ? ` (${run.unschedulable})` : ''}`
      : `it was still ${run.phase}`;
  return done(
    'timed-out',
    `The smoke-test pod ${namespace}/${pod} had not ended ${Math.round(SMOKE_TEST.timeoutSeconds / 60)} minutes after it was created: ${why}. Check kubectl describe pod on a copy of it, and that the node takes GPU pods.`,
    [],
  );
}
