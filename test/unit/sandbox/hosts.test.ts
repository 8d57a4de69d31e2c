import { CreateActivationCommand } from '@aws-sdk/client-ssm';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { handOutNodeConfig } from '#lib/sandbox/on-prem';
import type { EstateSeed } from '#lib/sandbox/seed';
import { freezeTimeAt } from '../../helpers/frozen-time';

/** The sandbox's hosts: the kubelet versions and NodeConfig paths of the servers behind the Nodes. */

const NOW = new Date('2026-11-22T06:00:00.000Z');
freezeTimeAt(NOW);

const GPU_02 = 'mi-0a2b4c6d8e0f12342';
const CPU_04 = 'mi-0a2b4c6d8e0f12344';
const CONFIG = '/etc/eks-hybrid-ops/nodeConfig.yaml';
const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://sandbox',
  certificateAuthority: '',
};

/** The default seed, its fleet's NodeConfigs at CONFIG. */
function seed(): EstateSeed {
  const s = loadSeed(DEFAULT_SEED);
  for (const f of s.fleet) f.nodeConfigPath = CONFIG;
  return s;
}

/** An estate in `scenario`, gpu-node-02 cordoned (as a drain leaves it). */
function open(scenario = 'joins', s = seed()): SandboxEstate {
  const estate = withServices(SandboxEstate.inMemory(s));
  estate.state.scenario = scenario;
  estate.state.nodes[GPU_02]!.unschedulable = true;
  return estate;
}

const node = (estate: SandboxEstate, name = GPU_02) => sandboxKubeApi(estate)(CLUSTER).getNode(name);

describe('the seeded hosts', () => {
  it("run the kubelet versions the seed gives them, below the cluster's 1.33", async () => {
    const estate = open();
    const versions = Object.fromEntries(
      Object.values(estate.state.nodes).map((n) => [estate.state.instances[n.name]?.name, n.kubeletVersion]),
    );

    expect(versions).toEqual({
      'gpu-node-02': 'v1.31.13-eks-113cf36',
      'gpu-node-03': 'v1.29.15-eks-473151a',
      'cpu-node-04': 'v1.32.9-eks-c39b1d0',
    });
    expect((await node(estate))?.kubeletVersion).toBe('v1.31.13-eks-113cf36');
  });

  it("keep their NodeConfig where onboarding's instructions put it, unless the seed says", () => {
    const s = loadSeed(DEFAULT_SEED);
    s.fleet[2]!.nodeConfigPath = CONFIG;

    const estate = open('joins', s);

    // Today's instructions run `nodeadm init -c file://nodeConfig.yaml`: relative to a shell no command can name.
    expect(estate.state.hosts[GPU_02]?.nodeConfigPath).toBeUndefined();
    expect(estate.state.hosts[CPU_04]?.nodeConfigPath).toBe(CONFIG);
  });
});

describe('a server that joins through onboarding', () => {
  /** gpu-node-01 fetches a NodeConfig whose instructions are `commands`, and joins. */
  async function join(commands: string[]): Promise<SandboxEstate> {
    const estate = open();
    const { ActivationId, ActivationCode } = await estate
      .clients()
      .ssm.send(
        new CreateActivationCommand({ IamRole: 'AmazonEKSHybridNodesRole', DefaultInstanceName: 'gpu-node-01' }),
      );
    const nodeConfig = [
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  cluster: { name: gpu-hybrid-cluster, region: ap-northeast-2 }',
      `  hybrid: { ssm: { activationCode: "${ActivationCode}", activationId: ${ActivationId} } }`,
      '  kubelet: { flags: ["--node-labels=gpu=h100"] }',
    ].join('\n');
    handOutNodeConfig(estate, JSON.stringify({ nodeConfig, commands }));
    estate.advance(60);
    await node(estate); // looking moves the world to now
    return estate;
  }
  const joined = (estate: SandboxEstate) => {
    const host = Object.values(estate.state.hosts).find((h) => h.name === 'gpu-node-01');
    return { host, node: host && estate.state.nodes[host.instanceId] };
  };

  it('runs the kubelet of the version its instructions installed, its NodeConfig where init read it', async () => {
    const estate = await join([
      'sudo nodeadm install 1.32 --credential-provider ssm',
      `sudo nodeadm init -c file://${CONFIG}`,
    ]);

    const { host, node: gpu01 } = joined(estate);

    expect(gpu01).toMatchObject({ kubeletVersion: 'v1.32.9-eks-c39b1d0', ready: { status: 'True' } });
    expect(host).toMatchObject({ nodeadm: true, nodeConfigPath: CONFIG });
  });

  it("runs the cluster's version when the instructions name none, and keeps no path init read relatively", async () => {
    const estate = await join(['sudo nodeadm init -c file://nodeConfig.yaml']);

    const { host, node: gpu01 } = joined(estate);

    expect(gpu01?.kubeletVersion).toBe('v1.33.5-eks-ecaa3a6');
    expect(host?.nodeConfigPath).toBeUndefined();
  });
});
