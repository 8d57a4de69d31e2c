import type { KubeApi, KubePod } from '#lib/kube/types';
import { SandboxEstate } from '#lib/sandbox/estate';
import { withServices } from '#lib/sandbox/index';
import { podsOnNode, sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { advanceOnPrem } from '#lib/sandbox/on-prem';
import { budgetStatus, kubernetesOf } from '#lib/sandbox/workloads';

/**
 * The sandbox's Kubernetes: the seeded workloads, the Eviction API and its PodDisruptionBudget
 * math, grace periods and replacements in sandbox time, cordons, Node deletion and faults.
 * Times are checked well inside or well past each boundary: the sandbox clock is real time plus
 * the Waits, and real time moves a little while a test runs.
 */

const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://x',
  certificateAuthority: '',
};
const GPU_NODE_02 = 'mi-0a2b4c6d8e0f12342';
const GPU_NODE_03 = 'mi-0a2b4c6d8e0f12343';
const CPU_NODE_04 = 'mi-0a2b4c6d8e0f12344';
const CLOUD = 'ip-10-0-1-87.ap-northeast-2.compute.internal';

const open = () => {
  const estate = withServices(SandboxEstate.inMemory());
  return { estate, kube: sandboxKubeApi(estate)(CLUSTER) };
};

async function podsOn(kube: KubeApi, node: string, pageSize?: number): Promise<KubePod[]> {
  const pods: KubePod[] = [];
  for await (const page of kube.listPodsOnNode(node, pageSize)) pods.push(...page);
  return pods;
}
const named = (pods: KubePod[], prefix: string) => pods.filter((p) => p.name.startsWith(prefix));
const only = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};

describe('the seeded cluster', () => {
  it('runs DaemonSet pods on every hybrid Node and the ml workload behind its budget on gpu-node-12', async () => {
    const { kube } = open();

    const onGpu02 = await podsOn(kube, GPU_NODE_02);

    const generic = (p: KubePod) => (p.controller ? p.name.replace(/-[a-z0-9]{5}$/, '-*') : p.name);
    expect(onGpu02.map((p) => [p.namespace, generic(p), p.controller?.kind])).toEqual([
      ['default', 'nvidia-smi-check', undefined],
      ['kube-system', 'cilium-*', 'DaemonSet'],
      ['kube-system', 'kube-proxy-*', 'DaemonSet'],
      ['ml', 'llm-inference-7d9c5b6f4-*', 'ReplicaSet'],
      ['ml', 'llm-inference-7d9c5b6f4-*', 'ReplicaSet'],
    ]);
    expect(onGpu02.every((p) => p.phase === 'Running' && !p.terminating && p.nodeName === GPU_NODE_02)).toBe(true);
    expect(named(onGpu02, 'llm-inference').every((p) => p.emptyDir)).toBe(true);
    expect((await podsOn(kube, GPU_NODE_03)).map((p) => p.controller?.kind)).toEqual(['DaemonSet', 'DaemonSet']);
  });

  it('never lists the cloud node as a hybrid Node, though pods run there', async () => {
    const { kube } = open();
    const nodes: string[] = [];
    for await (const page of kube.listHybridNodes()) nodes.push(...page.map((n) => n.name));

    expect(nodes).toEqual([GPU_NODE_02, GPU_NODE_03, CPU_NODE_04]);
    await expect(kube.getNode(CLOUD)).resolves.toBeUndefined();
    expect(named(await podsOn(kube, CLOUD), 'llm-inference')).toHaveLength(1);
  });

  it('pages the pods on a Node, one recorded call per page', async () => {
    const { estate, kube } = open();

    const pods = await podsOn(kube, GPU_NODE_02, 2);

    expect(pods).toHaveLength(5);
    expect(estate.calls.filter((c) => c.command === 'ListPods')).toHaveLength(3);
  });
});

describe('the disruption budget math', () => {
  it('minAvailable: healthy pods minus minAvailable; maxUnavailable: counted from the ReplicaSet scale', () => {
    const { estate } = open();
    const k = kubernetesOf(estate.state);
    const budget = k.podDisruptionBudgets.find((b) => b.name === 'llm-inference');
    if (!budget) throw new Error('the seed has no llm-inference budget');
    const now = estate.clock.now();

    expect(budgetStatus(k, budget, estate.state.nodes, now)).toEqual({
      desiredHealthy: 2,
      currentHealthy: 3,
      disruptionsAllowed: 1,
    });
    const byMax = { ...budget, minAvailable: undefined, maxUnavailable: 1 };
    const rs = k.replicaSets.find((r) => r.name === 'llm-inference-7d9c5b6f4');
    if (rs) rs.replicas = 4; // one replica the ReplicaSet has not made yet is unavailable too
    expect(budgetStatus(k, byMax, estate.state.nodes, now)).toEqual({
      desiredHealthy: 3,
      currentHealthy: 3,
      disruptionsAllowed: 0,
    });
  });

  it('counts a pod on a NotReady Node as not healthy', () => {
    const { estate } = open();
    const node = estate.state.nodes[GPU_NODE_02];
    if (node)
      node.ready = { status: 'False', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    const k = kubernetesOf(estate.state);
    const budget = k.podDisruptionBudgets.find((b) => b.name === 'llm-inference');
    if (!budget) throw new Error('the seed has no llm-inference budget');

    expect(budgetStatus(k, budget, estate.state.nodes, estate.clock.now()).currentHealthy).toBe(1);
  });
});

describe('the Eviction API', () => {
  it('evicts one pod at a time under minAvailable, refusing the next until the replacement is Ready', async () => {
    const { estate, kube } = open();
    const [first, second] = named(await podsOn(kube, GPU_NODE_02), 'llm-inference') as [KubePod, KubePod];

    await expect(kube.evictPod('ml', first.name)).resolves.toEqual({ outcome: 'evicting' });
    await expect(kube.evictPod('ml', second.name)).resolves.toEqual({
      outcome: 'refused',
      reason:
        "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget llm-inference needs 2 healthy pods and has 2 currently",
    });
    // The ReplicaSet replaced the evicted pod on the cloud node at once; it is not Ready yet.
    expect(named(await podsOn(kube, CLOUD), 'llm-inference')).toHaveLength(2);

    estate.advance(40); // past the grace period (30 s), before the replacement is Ready (60 s)
    expect(named(await podsOn(kube, GPU_NODE_02), 'llm-inference').map((p) => p.name)).toEqual([second.name]);
    await expect(kube.evictPod('ml', second.name)).resolves.toMatchObject({ outcome: 'refused' });

    estate.advance(30);
    await expect(kube.evictPod('ml', second.name)).resolves.toEqual({ outcome: 'evicting' });
  });

  it('keeps an evicted pod Terminating for its grace period, then it is gone', async () => {
    const { estate, kube } = open();
    const pod = only(await podsOn(kube, CPU_NODE_04).then((pods) => named(pods, 'docs-portal')));

    await expect(kube.evictPod('web', pod.name)).resolves.toEqual({ outcome: 'evicting' });
    expect(named(await podsOn(kube, CPU_NODE_04), 'docs-portal')).toEqual([{ ...pod, terminating: true }]);

    estate.advance(5); // its grace period is 10 s
    expect(named(await podsOn(kube, CPU_NODE_04), 'docs-portal')).toHaveLength(1);
    estate.advance(10);
    expect(named(await podsOn(kube, CPU_NODE_04), 'docs-portal')).toEqual([]);
    await expect(kube.evictPod('web', pod.name)).resolves.toEqual({ outcome: 'gone' });
  });

  it('evicts a pod already terminating without asking its budget', async () => {
    const { kube } = open();
    const [first, second] = named(await podsOn(kube, GPU_NODE_02), 'llm-inference') as [KubePod, KubePod];
    await kube.evictPod('ml', first.name);
    await kube.deletePod('ml', second.name); // past the budget: now none is allowed

    await expect(kube.evictPod('ml', second.name)).resolves.toEqual({ outcome: 'evicting' });
  });

  it('evicts a replica that is not Ready yet while its budget keeps the healthy pods it needs', async () => {
    const { kube } = open();
    const first = named(await podsOn(kube, GPU_NODE_02), 'llm-inference')[0] as KubePod;
    const seeded = named(await podsOn(kube, CLOUD), 'llm-inference').map((p) => p.name);
    await kube.evictPod('ml', first.name); // no disruption left; its replacement is starting
    const replacement = only(named(await podsOn(kube, CLOUD), 'llm-inference').filter((p) => !seeded.includes(p.name)));

    await expect(kube.evictPod('ml', replacement.name)).resolves.toEqual({ outcome: 'evicting' });
  });

  it('replaces nothing for a pod no controller owns', async () => {
    const { estate, kube } = open();
    const before = (await podsOn(kube, CLOUD)).length;

    await expect(kube.evictPod('default', 'nvidia-smi-check')).resolves.toEqual({ outcome: 'evicting' });
    estate.advance(31);

    expect(named(await podsOn(kube, GPU_NODE_02), 'nvidia-smi-check')).toEqual([]);
    expect(await podsOn(kube, CLOUD)).toHaveLength(before);
  });

  it('refuses a pod that two budgets select (HTTP 500 in EKS)', async () => {
    const { estate, kube } = open();
    kubernetesOf(estate.state).podDisruptionBudgets.push({
      cluster: CLUSTER.name,
      namespace: 'ml',
      name: 'all-ml',
      selector: { app: 'llm-inference' },
      maxUnavailable: 3,
    });
    const pod = named(await podsOn(kube, GPU_NODE_02), 'llm-inference')[0] as KubePod;

    await expect(kube.evictPod('ml', pod.name)).resolves.toEqual({
      outcome: 'refused',
      reason: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    });
  });

  it('lets the DaemonSet put a new pod on the Node once an evicted one is gone', async () => {
    const { estate, kube } = open();
    const cilium = only(named(await podsOn(kube, GPU_NODE_02), 'cilium'));

    await kube.evictPod('kube-system', cilium.name);
    estate.advance(31);

    const again = only(named(await podsOn(kube, GPU_NODE_02), 'cilium'));
    expect(again.name).not.toBe(cilium.name);
    expect(again).toMatchObject({ controller: { kind: 'DaemonSet', name: 'cilium' }, terminating: false });
  });

  it('leaves a pod Terminating while its kubelet is down: nothing confirms it stopped', async () => {
    const { estate, kube } = open();
    const cilium = only(named(await podsOn(kube, GPU_NODE_03), 'cilium')); // gpu-node-13 is NotReady

    await kube.evictPod('kube-system', cilium.name);
    estate.advance(600);

    expect(named(await podsOn(kube, GPU_NODE_03), 'cilium')).toEqual([{ ...cilium, terminating: true }]);
  });
});

describe('the drain-blocked scenario', () => {
  it('refuses every eviction a budget covers, while a plain DELETE still passes', async () => {
    const { estate, kube } = open();
    estate.state.scenario = 'drain-blocked';
    const pod = named(await podsOn(kube, GPU_NODE_02), 'llm-inference')[0] as KubePod;

    await expect(kube.evictPod('ml', pod.name)).resolves.toEqual({
      outcome: 'refused',
      reason:
        "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget llm-inference needs 3 healthy pods and has 3 currently",
    });
    await expect(kube.evictPod('default', 'nvidia-smi-check')).resolves.toEqual({ outcome: 'evicting' });
    await expect(kube.deletePod('ml', pod.name)).resolves.toBe(true);
    expect(named(await podsOn(kube, GPU_NODE_02), pod.name)).toEqual([{ ...pod, terminating: true }]);
  });
});

describe('cordon', () => {
  it('sets spec.unschedulable and the node controller taint, and takes both away again', async () => {
    const { estate, kube } = open();

    await expect(kube.setUnschedulable(GPU_NODE_02, true)).resolves.toMatchObject({ unschedulable: true });
    expect(estate.state.nodes[GPU_NODE_02]?.taints).toEqual(['node.kubernetes.io/unschedulable:NoSchedule']);
    await expect(kube.getNode(GPU_NODE_02)).resolves.toMatchObject({ unschedulable: true });

    await expect(kube.setUnschedulable(GPU_NODE_02, false)).resolves.toMatchObject({ unschedulable: false });
    expect(estate.state.nodes[GPU_NODE_02]?.taints).toEqual([]);
    await expect(kube.setUnschedulable('mi-00000000000000000', true)).resolves.toBeUndefined();
  });
});

/** gpu-node-01 as `npm start` leaves it: its server registered 20 s ago, under the `joins` scenario. */
function joinGpuNode01(estate: SandboxEstate): string {
  const instanceId = 'mi-0a2b4c6d8e0f10001';
  const registered = new Date(estate.clock.now().getTime() - 20_000).toISOString();
  estate.state.instances[instanceId] = {
    instanceId,
    activationId: 'act-1',
    name: 'gpu-node-01',
    ipAddress: '192.168.10.21',
    platformName: 'Ubuntu',
    platformVersion: '22.04',
    registrationDate: registered,
    tags: [],
  };
  estate.state.servers['act-1'] = {
    activationId: 'act-1',
    nodeName: 'gpu-node-01',
    cluster: CLUSTER.name,
    ip: '192.168.10.21',
    platform: 'Ubuntu',
    platformVersion: '22.04',
    vcpus: 224,
    gpus: 8,
    labels: {},
    taints: [],
    scenario: 'joins',
    handedOutAt: registered,
    canRegister: true,
    instanceId,
  };
  return instanceId;
}

describe('a Node that joins', () => {
  it('gets DaemonSet pods as soon as it exists, and its Pending workload once it is Ready', async () => {
    const { estate, kube } = open();
    const node = joinGpuNode01(estate); // the Node appeared 5 s ago, Ready 15 s from now

    expect((await podsOn(kube, node)).map((p) => p.controller?.name)).toEqual(['cilium', 'kube-proxy']);
    estate.advance(20);

    const embeddings = named(await podsOn(kube, node), 'embeddings');
    expect(embeddings).toHaveLength(2);
    expect(embeddings.every((p) => p.phase === 'Running' && p.controller?.name === 'embeddings-5f6b8d9c7')).toBe(true);
  });

  it('does not schedule its Pending workload while the Node is cordoned', async () => {
    const { estate, kube } = open();
    const node = joinGpuNode01(estate);
    await kube.setUnschedulable(node, true);
    estate.advance(20);

    expect(named(await podsOn(kube, node), 'embeddings')).toEqual([]);
  });
});

describe('deleting a Node', () => {
  it('removes the Node and its pods, whose ReplicaSet replaces them; the Node is not billed any more', async () => {
    const { estate, kube } = open();
    const cloudBefore = named(await podsOn(kube, CLOUD), 'llm-inference').length;

    await expect(kube.deleteNode(GPU_NODE_02)).resolves.toBe(true);

    expect(estate.state.nodes[GPU_NODE_02]).toBeUndefined();
    expect(await podsOn(kube, GPU_NODE_02)).toEqual([]);
    expect(named(await podsOn(kube, CLOUD), 'llm-inference')).toHaveLength(cloudBefore + 2);
    await expect(kube.deleteNode(GPU_NODE_02)).resolves.toBe(false);
  });

  it('stays deleted: a running kubelet does not register its Node again', async () => {
    const { estate, kube } = open();
    const node = joinGpuNode01(estate);
    advanceOnPrem(estate);
    expect(estate.state.nodes[node]).toBeDefined();

    await kube.deleteNode(node);
    estate.advance(60);

    await expect(kube.getNode(node)).resolves.toBeUndefined();
  });
});

describe('faults on the new calls', () => {
  it('answers an injected HTTP status as the EKS client would', async () => {
    const { estate, kube } = open();
    const pod = named(await podsOn(kube, GPU_NODE_02), 'llm-inference')[0] as KubePod;
    estate.injectFault({ on: 'kubernetes:EvictPod', effect: 'error', error: '429' });
    estate.injectFault({ on: 'kubernetes:PatchNode', effect: 'error', error: '403' });
    estate.injectFault({ on: 'kubernetes:DeletePod', effect: 'error', error: '503' });
    estate.injectFault({ on: 'kubernetes:ListPods', effect: 'network', error: 'ECONNRESET' });

    await expect(kube.evictPod('ml', pod.name)).resolves.toMatchObject({ outcome: 'refused' });
    await expect(kube.setUnschedulable(GPU_NODE_02, true)).rejects.toThrow(/hybridops-node-operators/);
    await expect(kube.deletePod('ml', pod.name)).rejects.toMatchObject({ name: 'AwsTransientError' });
    await expect(podsOn(kube, GPU_NODE_02)).rejects.toMatchObject({ name: 'AwsTransientError' });
    expect(estate.state.nodes[GPU_NODE_02]?.unschedulable).toBeUndefined();
    expect(named(await podsOn(kube, GPU_NODE_02), pod.name)).toEqual([pod]);
  });

  it('does the work and loses the answer on lost-response, so a retry finds it done', async () => {
    const { estate, kube } = open();
    estate.injectFault({ on: 'kubernetes:DeleteNode', effect: 'lost-response', error: 'TimeoutError' });

    await expect(kube.deleteNode(GPU_NODE_02)).rejects.toMatchObject({ name: 'AwsTransientError' });
    await expect(kube.deleteNode(GPU_NODE_02)).resolves.toBe(false);
  });
});

describe('podsOnNode (the host own view)', () => {
  it('lists without a recorded call, so no fault meets it', () => {
    const { estate } = open();
    estate.injectFault({ on: 'kubernetes:ListPods', effect: 'error', error: '503', times: 'always' });

    expect(podsOnNode(estate, CLUSTER.name, GPU_NODE_03)).toHaveLength(2);
    expect(estate.calls).toEqual([]);
  });
});
