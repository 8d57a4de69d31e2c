import type { PodManifest, PodRun } from '../kube/types';
import type { SandboxEstate } from './estate';
import { scenarioFor } from './scenarios';
import type { Scenario } from './seed';
import type { SandboxKubernetes, SandboxNode, SandboxPod, SimulatedServer } from './state';

/**
 * The GPU side of the sandbox's cluster: the NVIDIA device plugin on a joined GPU server, and the
 * pods this project creates to run nvidia-smi there.
 */

const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000);

/**
 * The NVIDIA device plugin is a DaemonSet: its pod starts on a GPU node once the Node is Ready,
 * and registers the GPUs it finds with the kubelet, which then advertises `nvidia.com/gpu` in the
 * Node's capacity and allocatable (https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/;
 * NVIDIA k8s-device-plugin README, https://github.com/NVIDIA/k8s-device-plugin#quick-start).
 * Until then the Node shows none; without the plugin, never. It registers what the host shows: a
 * host missing GPUs registers fewer, in capacity and allocatable alike.
 */
export function advanceDevicePlugin(
  estate: SandboxEstate,
  server: SimulatedServer,
  scenario: Scenario,
  now: Date,
): void {
  if (server.gpus <= 0 || !server.instanceId || !server.readyAt || server.devicePluginAt) return;
  if (scenario.devicePluginAfterSeconds === null) return;
  const node = estate.state.nodes[server.instanceId];
  if (!node || node.ready.status !== 'True') return;
  const at = plus(server.readyAt, scenario.devicePluginAfterSeconds);
  if (at > now) return;
  const shown = Math.max(0, server.gpus - scenario.missingGpus);
  server.devicePluginAt = at.toISOString();
  if (shown === 0) return;
  node.capacity = { ...node.capacity, gpu: String(shown) };
  node.allocatable = { ...node.allocatable, gpu: String(shown) };
}

/** How long a scheduled nvidia-smi pod takes to pull its image, start and exit. */
const RUN_SECONDS = 8;

/** A pod created through the API, Pending until the scheduler places it. */
export function createdPod(cluster: string, manifest: PodManifest, uid: string): SandboxPod {
  const container = manifest.spec.containers[0];
  return {
    cluster,
    namespace: manifest.metadata.namespace,
    name: manifest.metadata.name,
    uid,
    nodeName: '',
    phase: 'Pending',
    mirror: false,
    emptyDir: false,
    labels: manifest.metadata.labels ?? {},
    gracePeriodSeconds: 30,
    run: {
      nodeSelector: manifest.spec.nodeSelector ?? {},
      tolerations: manifest.spec.tolerations ?? [],
      gpus: Number(container?.resources?.limits?.['nvidia.com/gpu'] ?? 0),
      command: container?.command ?? [],
      ...(manifest.spec.activeDeadlineSeconds ? { activeDeadlineSeconds: manifest.spec.activeDeadlineSeconds } : {}),
      log: '',
    },
  };
}

/** The pod's run as the API reports it (v1 Pod status). */
export function podRunOf(pod: SandboxPod): PodRun {
  const run = pod.run;
  const ended = pod.phase === 'Succeeded' || pod.phase === 'Failed';
  return {
    namespace: pod.namespace,
    name: pod.name,
    nodeName: pod.nodeName,
    phase: pod.phase,
    ...(run?.reason ? { reason: run.reason } : {}),
    ...(pod.phase === 'Pending' && run?.unschedulable ? { unschedulable: run.unschedulable } : {}),
    ...(ended && run?.exitCode !== undefined
      ? { terminated: { exitCode: run.exitCode, reason: run.exitCode === 0 ? 'Completed' : 'Error' } }
      : {}),
    terminating: pod.deletionTimestamp !== undefined,
  };
}

/** A node taint `key=value:Effect` or `key:Effect`. */
function parseTaint(taint: string): { key: string; value?: string; effect: string } {
  const [kv = '', effect = ''] = taint.split(':');
  const [key = '', value] = kv.split('=');
  return { key, value, effect };
}

/**
 * Whether the pod tolerates a taint (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/):
 * same key (or an empty key with Exists), Exists or an equal value, the same effect or none.
 */
function tolerates(run: NonNullable<SandboxPod['run']>, taint: ReturnType<typeof parseTaint>): boolean {
  return run.tolerations.some(
    (t) =>
      (t.key === taint.key || (t.key === '' && t.operator === 'Exists')) &&
      (t.operator === 'Exists' || t.value === taint.value) &&
      (!t.effect || t.effect === taint.effect),
  );
}

/**
 * Why the pod cannot go on the Node, as the scheduler's filters say it (NodeAffinity for the
 * node selector, TaintToleration, NodeResourcesFit for the GPU limit:
 * https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins); undefined when it fits.
 */
function unfit(k: SandboxKubernetes, pod: SandboxPod, node: SandboxNode): string | undefined {
  const run = pod.run;
  if (!run) return 'not a created pod';
  if (node.cluster !== pod.cluster) return "node(s) didn't match Pod's node affinity/selector";
  if (!Object.entries(run.nodeSelector).every(([key, value]) => node.labels[key] === value)) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  if (node.ready.status !== 'True') return 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }';
  if (node.unschedulable) return 'node(s) were unschedulable';
  const taint = node.taints
    .map(parseTaint)
    .find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(run, t));
  if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  const used = Object.values(k.pods)
    .filter((p) => p !== pod && p.nodeName === node.name && p.phase === 'Running' && p.run)
    .reduce((sum, p) => sum + (p.run?.gpus ?? 0), 0);
  if (run.gpus > Number(node.allocatable.gpu ?? 0) - used) return 'Insufficient nvidia.com/gpu';
  return undefined;
}

/** What nvidia-smi prints on a driver 550 host, with the GPUs the container sees (its limit). */
function nvidiaSmiTable(now: Date, gpus: number): string {
  const when = now.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4');
  const row = (i: number) => [
    `|   ${i}  NVIDIA H100 80GB HBM3          On  |   00000000:${(0x18 + i * 0x10).toString(16).toUpperCase()}:00.0 Off |                    0 |`,
    '| N/A   31C    P0             71W /  700W |       1MiB /  81559MiB |      0%      Default |',
    '|                                         |                        |             Disabled |',
  ];
  return [
    when,
    '+-----------------------------------------------------------------------------------------+',
    '| NVIDIA-SMI 550.127.05             Driver Version: 550.127.05     CUDA Version: 12.4     |',
    '|-----------------------------------------+------------------------+----------------------+',
    '| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |',
    '| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |',
    '|                                         |                        |               MIG M. |',
    '|=========================================+========================+======================|',
    ...Array.from({ length: Math.max(1, gpus) }, (_, i) => row(i)).flat(),
    '+-----------------------------------------+------------------------+----------------------+',
    '',
    '+-----------------------------------------------------------------------------------------+',
    '| Processes:                                                                              |',
    '|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |',
    '|        ID   ID                                                               Usage      |',
    '|=========================================================================================|',
    '|  No running processes found                                                             |',
    '+-----------------------------------------------------------------------------------------+',
    '',
  ].join('\n');
}

/** What nvidia-smi prints when the loaded kernel driver and its user-space library differ. */
const NVML_MISMATCH = 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.144\n';

/** The scenario of the server behind a Node (per server: lib/sandbox/scenarios.ts). */
function scenarioOfNode(estate: SandboxEstate, nodeName: string): Scenario | undefined {
  const server = Object.values(estate.state.servers).find((s) => s.instanceId === nodeName);
  const seeded = estate.seed.fleet.find((f) => f.instanceId === nodeName)?.name;
  return estate.seed.scenarios[server?.scenario ?? (seeded ? scenarioFor(estate, seeded) : estate.state.scenario)];
}

/**
 * Moves the created pods on: a Pending one is bound to the Node it fits (or says why none fits);
 * a Running one ends `RUN_SECONDS` later while its kubelet runs, Succeeded with nvidia-smi's table
 * or, on a host whose scenario says so, Failed with exit 1; past `activeDeadlineSeconds` the
 * kubelet fails it (DeadlineExceeded, https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/).
 */
export function advanceCreatedPods(estate: SandboxEstate, k: SandboxKubernetes): void {
  const now = estate.clock.now();
  const nodes = Object.values(estate.state.nodes);
  for (const pod of Object.values(k.pods)) {
    const run = pod.run;
    if (!run || pod.deletionTimestamp) continue;
    if (pod.phase === 'Pending') {
      const reasons = nodes.map((n) => ({ node: n, why: unfit(k, pod, n) }));
      const fit = reasons.find((r) => r.why === undefined);
      if (!fit) {
        const counted = new Map<string, number>();
        for (const r of reasons) if (r.why) counted.set(r.why, (counted.get(r.why) ?? 0) + 1);
        const parts = [...counted].map(([why, n]) => `${n} ${why}`);
        run.unschedulable = `0/${nodes.length} nodes are available: ${parts.join(', ')}.`;
        continue;
      }
      pod.nodeName = fit.node.name;
      pod.phase = 'Running';
      delete run.unschedulable;
      run.startedAt = now.toISOString();
      run.endsAt = plus(run.startedAt, RUN_SECONDS).toISOString();
    }
    if (pod.phase !== 'Running' || !run.endsAt || !run.startedAt) continue;
    if (estate.state.nodes[pod.nodeName]?.ready.status !== 'True') continue; // its kubelet is down
    const deadline = run.activeDeadlineSeconds ? plus(run.startedAt, run.activeDeadlineSeconds) : undefined;
    const ends = new Date(run.endsAt);
    if (deadline && deadline < ends && deadline <= now) {
      pod.phase = 'Failed';
      run.reason = 'DeadlineExceeded';
      continue;
    }
    if (ends > now) continue;
    if (scenarioOfNode(estate, pod.nodeName)?.smokeTestFails) {
      pod.phase = 'Failed';
      run.exitCode = 1;
      run.log = NVML_MISMATCH;
    } else {
      pod.phase = 'Succeeded';
      run.exitCode = 0;
      run.log = nvidiaSmiTable(ends, run.gpus);
    }
  }
}
