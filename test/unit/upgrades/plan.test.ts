import { type ClusterStatus, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  ListTagsForResourceCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { ClusterNotActiveError, KubernetesVersionSkewError, UpgradeTooLargeError } from '#lib/errors';
import type { KubeNode, NodeReaderFactory } from '#lib/kube/types';
import { MAX_NODES_PER_UPGRADE } from '#lib/upgrades/limits';
import { parseKubeletVersion } from '#lib/domain/kubernetes';
import { planUpgrade, versionSkip } from '#lib/upgrades/plan';
import type { UpgradeInput, UpgradePlan } from '#lib/upgrades/state';
import { memoryStore } from '#test/helpers/memory-store';

const REGION = 'ap-northeast-2';
const CLUSTER = 'gpu-hybrid-cluster';
const ARN = `arn:aws:eks:${REGION}:111122223333:cluster/${CLUSTER}`;
const eksMock = mockClient(EKSClient);
const ssmMock = mockClient(SSMClient);

const id = (n: number) => `mi-0a2b4c6d8e0f1234${n.toString(16)}`;
function node(n: number, extra: Partial<KubeNode> = {}): KubeNode {
  return {
    name: id(n),
    labels: { 'eks.amazonaws.com/compute-type': 'hybrid', gpu: n % 2 ? 'h100' : 'none' },
    internalIps: [`192.168.10.${20 + n}`],
    ready: { status: 'True' },
    capacity: { cpu: '64' },
    allocatable: { cpu: '64' },
    unschedulable: false,
    kubeletVersion: 'v1.31.4-eks-1234567',
    ...extra,
  };
}

interface Estate {
  nodes: KubeNode[];
  /** instance id -> [onboarded name, PingStatus]; instances not listed are not tagged for the cluster. */
  instances: Record<string, [string, 'Online' | 'ConnectionLost']>;
}

function answer(estate: Estate, status: ClusterStatus = 'ACTIVE', version = '1.33') {
  eksMock.on(DescribeClusterCommand).resolves({
    cluster: {
      name: CLUSTER,
      arn: ARN,
      status,
      version,
      endpoint: 'https://eks',
      certificateAuthority: { data: 'Q0E=' },
    },
  });
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationCommandInput) => {
    const byName = input.Filters?.find((f) => f.Key === 'tag:hybridops:node-name')?.Values;
    const list = Object.entries(estate.instances)
      .filter(([, [name]]) => !byName || byName.includes(name))
      .map(([InstanceId, [Name, PingStatus]]) => ({ InstanceId, PingStatus, Name }));
    return { InstanceInformationList: list };
  });
  ssmMock.on(ListTagsForResourceCommand).callsFake((input: { ResourceId?: string }) => ({
    TagList: [{ Key: 'hybridops:node-name', Value: estate.instances[input.ResourceId ?? '']?.[0] ?? '' }],
  }));
}

const reader =
  (nodes: KubeNode[]): NodeReaderFactory =>
  () => ({
    getNode: async (name) => nodes.find((n) => n.name === name),
    async *listHybridNodes() {
      yield nodes.slice(0, 2);
      yield nodes.slice(2);
    },
  });

function input(request: Partial<UpgradeInput['request']> = {}): UpgradeInput {
  return {
    upgradeId: 'upgrade-1-33-0123456789ab',
    requester: 'arn:aws:iam::111122223333:user/alice',
    requestDigest: 'x',
    request: {
      cluster: CLUSTER,
      kubernetesVersion: '1.33',
      maxUnavailable: 1,
      force: false,
      drainTimeoutSeconds: 600,
      ...request,
    },
    resources: { lockPath: '/p/locks/c', manualCheck: '' },
  };
}

async function plan(estate: Estate, request: Partial<UpgradeInput['request']> = {}) {
  const memory = memoryStore();
  const result = await planUpgrade(
    {
      eks: new EKSClient({ region: REGION }),
      ssm: new SSMClient({ region: REGION }),
      nodes: reader(estate.nodes),
      store: memory.store,
      clock: new ManualClock('2026-11-22T00:00:00Z'),
      settings: { region: REGION, parameterPrefix: '/eks-hybrid-ops/test' },
    },
    input(request),
  );
  return { result, stored: memory.read<UpgradePlan>(result.key) };
}

const fleet = (): Estate => ({
  nodes: [
    node(1),
    node(2, { kubeletVersion: 'v1.32.0-eks-1' }),
    node(3, { kubeletVersion: 'v1.33.2-eks-1' }), // at the target: not the request's
    node(4, {
      ready: { status: 'False', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' },
    }),
    node(5), // its agent is offline
    node(6), // not tagged for this cluster
    node(7, { kubeletVersion: 'v1.29.9-eks-1' }), // four minors behind the 1.33 control plane
  ],
  instances: {
    [id(1)]: ['gpu-node-01', 'Online'],
    [id(2)]: ['gpu-node-12', 'Online'],
    [id(3)]: ['gpu-node-13', 'Online'],
    [id(4)]: ['gpu-node-04', 'Online'],
    [id(5)]: ['gpu-node-05', 'ConnectionLost'],
    [id(7)]: ['gpu-node-07', 'Online'],
  },
});

beforeEach(() => {
  eksMock.reset();
  ssmMock.reset();
});

describe('planUpgrade', () => {
  it('by default rolls every hybrid node below the target, skipping with why those it cannot', async () => {
    answer(fleet());
    const { result, stored } = await plan(fleet());

    expect(result.waves.map((w) => w.map((n) => [n.name, n.nodeName, n.from, n.wave]))).toEqual([
      [['gpu-node-01', id(1), 'v1.31.4-eks-1234567', 0]],
      [['gpu-node-12', id(2), 'v1.32.0-eks-1', 1]],
    ]);
    expect(result.waves[0]?.[0]?.lockParameter).toBe('/eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-01');
    expect(result.skipped.map((s) => [s.nodeName, s.reason])).toEqual([
      [id(4), 'not-ready'],
      [id(5), 'offline'],
      [id(6), 'not-managed'],
      [id(7), 'too-old'],
    ]);
    // Named as onboarded (the instance's Name, its activation's DefaultInstanceName) when it has one.
    expect(result.skipped.map((s) => s.name)).toEqual(['gpu-node-04', 'gpu-node-05', id(6), 'gpu-node-07']);
    expect(result.skipped[0]?.detail).toContain('NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)');
    expect(result.skipped[1]?.detail).toContain('its SSM agent is ConnectionLost');
    expect(result.skipped[3]?.detail).toContain('more than 3 minor versions behind the 1.33 control plane');
    expect(result).toMatchObject({
      target: '1.33',
      controlPlaneVersion: '1.33',
      waveCount: 2,
      toUpgrade: 2,
      atTarget: 1,
    });
    expect(result.access).toEqual({
      name: CLUSTER,
      region: REGION,
      endpoint: 'https://eks',
      certificateAuthority: 'Q0E=',
    });
    expect(stored).toEqual(result);
    // Only the instances tagged for this cluster are this stage's: SendCommand is scoped by the tag.
    expect(ssmMock).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'tag:EKSClusterARN', Values: [ARN] }],
    });
  });

  it('puts maxUnavailable nodes in each wave, in name order', async () => {
    const estate: Estate = { nodes: [1, 2, 3, 4, 5].map((n) => node(n)), instances: {} };
    for (const n of [5, 4, 3, 2, 1]) estate.instances[id(n)] = [`node-${6 - n}`, 'Online'];
    answer(estate);
    const { result } = await plan(estate, { maxUnavailable: 2 });
    expect(result.waves.map((w) => w.map((n) => n.name))).toEqual([
      ['node-1', 'node-2'],
      ['node-3', 'node-4'],
      ['node-5'],
    ]);
  });

  it('takes nodes by the name they were onboarded under or their Node name, and reports each named one', async () => {
    answer(fleet());
    const { result } = await plan(fleet(), { nodes: ['gpu-node-12', id(1), 'gpu-node-13', 'gpu-node-99'] });
    expect(result.waves.flat().map((n) => n.name)).toEqual(['gpu-node-01', 'gpu-node-12']);
    expect(result.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['gpu-node-13', 'at-target'],
      ['gpu-node-99', 'not-found'],
    ]);
  });

  it('takes the nodes a label selector matches', async () => {
    answer(fleet());
    const { result } = await plan(fleet(), { selector: 'gpu=h100' });
    // 1, 3, 5 and 7 are h100: 3 is at the target, 5 offline, 7 too old.
    expect(result.waves.flat().map((n) => n.name)).toEqual(['gpu-node-01']);
    expect(result.skipped.map((s) => s.reason)).toEqual(['offline', 'too-old']);
  });

  it('never downgrades: a named node newer than the target is skipped', async () => {
    answer(fleet());
    const { result } = await plan(fleet(), { kubernetesVersion: '1.32', nodes: ['gpu-node-13', 'gpu-node-12'] });
    expect(result.toUpgrade).toBe(0);
    expect(result.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['gpu-node-13', 'newer-than-target'],
      ['gpu-node-12', 'at-target'],
    ]);
  });

  it('refuses a target newer than the control plane (it may have changed since the request)', async () => {
    answer(fleet(), 'ACTIVE', '1.32');
    await expect(plan(fleet())).rejects.toBeInstanceOf(KubernetesVersionSkewError);
    await expect(plan(fleet())).rejects.toThrow(
      'Fix: Upgrade the control plane first (aws eks update-cluster-version --name gpu-hybrid-cluster --kubernetes-version 1.33)',
    );
  });

  it('refuses a cluster that is not ACTIVE', async () => {
    answer(fleet(), 'UPDATING');
    await expect(plan(fleet())).rejects.toBeInstanceOf(ClusterNotActiveError);
  });

  it(`refuses more than ${MAX_NODES_PER_UPGRADE} nodes, with the fix, before it asks for any tag`, async () => {
    const estate: Estate = { nodes: [], instances: {} };
    for (let n = 1; n <= MAX_NODES_PER_UPGRADE + 1; n += 1) {
      estate.nodes.push(node(n));
      estate.instances[id(n)] = [`node-${n}`, 'Online'];
    }
    answer(estate);
    await expect(plan(estate)).rejects.toBeInstanceOf(UpgradeTooLargeError);
    await expect(plan(estate)).rejects.toThrow('Fix: Split the rollout');
    expect(ssmMock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    estate.nodes.pop();
    const { result } = await plan(estate);
    expect(result.toUpgrade).toBe(MAX_NODES_PER_UPGRADE);
  });
});

describe('version skew', () => {
  it.each([
    ['v1.31.4-eks-1234567', '1.33', '1.33', undefined],
    ['v1.30.0-eks-1', '1.33', '1.33', undefined],
    ['v1.33.0-eks-1', '1.33', '1.33', 'at-target'],
    ['v1.33.9', '1.32', '1.33', 'newer-than-target'],
    ['v1.29.0-eks-1', '1.33', '1.33', 'too-old'],
    ['v1.29.0-eks-1', '1.32', '1.32', undefined],
    [undefined, '1.33', '1.33', 'version-unknown'],
    ['garbage', '1.33', '1.33', 'version-unknown'],
  ])('kubelet %s to %s under a %s control plane: %s', (from, target, plane, reason) => {
    expect(versionSkip(from, target, plane)?.reason).toBe(reason);
  });

  it('reads major.minor of kubelet versions as kubectl shows them', () => {
    expect(parseKubeletVersion('v1.31.0-eks-a737599')).toEqual({ major: 1, minor: 31 });
    expect(parseKubeletVersion('1.33')).toEqual({ major: 1, minor: 33 });
    expect(parseKubeletVersion('v1.31')).toEqual({ major: 1, minor: 31 });
    expect(parseKubeletVersion('vx')).toBeUndefined();
  });
});
