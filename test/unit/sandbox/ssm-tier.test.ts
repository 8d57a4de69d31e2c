import {
  CreateActivationCommand,
  DescribeInstanceInformationCommand,
  GetServiceSettingCommand,
  paginateDescribeInstanceInformation,
  ServiceSettingNotFound,
} from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { handOutNodeConfig } from '#lib/sandbox/on-prem';
import type { EstateSeed } from '#lib/sandbox/seed';
import { readManagedInstanceQuota } from '#lib/ssm-quota';

/**
 * The sandbox's account-wide SSM facts: the activation tier (GetServiceSetting), other teams'
 * on-prem managed instances (a scenario's otherManagedInstances), the standard tier's limit on
 * registrations, and a scenario's lost GPUs.
 */

const open = (scenario = 'joins', seed: EstateSeed = loadSeed(DEFAULT_SEED)) => {
  const estate = withServices(SandboxEstate.inMemory(seed));
  estate.state.scenario = scenario;
  return estate;
};
const TIER = '/ssm/managed-instance/activation-tier';

describe('sandbox SSM GetServiceSetting', () => {
  it("answers the seed's activation tier, standard by default, with the setting's ARN", async () => {
    const answer = await open()
      .clients()
      .ssm.send(new GetServiceSettingCommand({ SettingId: TIER }));
    expect(answer.ServiceSetting).toMatchObject({
      SettingId: TIER,
      SettingValue: 'standard',
      Status: 'Default',
      ARN: 'arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier',
    });
  });

  it('answers advanced, Customized, when the seed says so', async () => {
    const seed = { ...loadSeed(DEFAULT_SEED), activationTier: 'advanced' as const };
    const answer = await open('joins', seed)
      .clients()
      .ssm.send(new GetServiceSettingCommand({ SettingId: TIER }));
    expect(answer.ServiceSetting).toMatchObject({ SettingValue: 'advanced', Status: 'Customized' });
  });

  it('refuses a setting SSM does not have with ServiceSettingNotFound, and one it does not hold as not implemented', async () => {
    const ssm = open().clients().ssm;
    await expect(ssm.send(new GetServiceSettingCommand({ SettingId: '/ssm/no/such' }))).rejects.toBeInstanceOf(
      ServiceSettingNotFound,
    );
    await expect(
      ssm.send(new GetServiceSettingCommand({ SettingId: '/ssm/parameter-store/default-parameter-tier' })),
    ).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });
});

describe("the scenario ssm-near-limit: other teams' on-prem servers in the account", () => {
  it('lists and counts them with the ResourceType filter: 905 and the seed three', async () => {
    const estate = open('ssm-near-limit');
    const ssm = estate.clients().ssm;

    await expect(readManagedInstanceQuota(ssm)).resolves.toMatchObject({
      tier: 'standard',
      registered: 908,
      limit: 1000,
    });
    // One in ten has lost its agent's connection: still registered, still counted.
    const lost = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'PingStatus', Values: ['ConnectionLost'] }] }),
    );
    expect(lost.NextToken).toBeDefined();
  });

  it('gives them no tag of this project, so no cluster counts them as its own', async () => {
    const estate = open('ssm-near-limit');
    await estate.clients().ssm.send(new GetServiceSettingCommand({ SettingId: TIER })); // the run starts: its scenario is seen
    const others = Object.values(estate.state.instances).filter((i) => i.name?.startsWith('build-agent-'));
    expect(others).toHaveLength(905);
    expect(others.flatMap((i) => i.tags.map((t) => t.Key))).not.toContain('EKSClusterARN');
    expect(others.some((i) => estate.state.nodes[i.instanceId])).toBe(false);
  });

  it('adds none in the default scenario', async () => {
    await expect(readManagedInstanceQuota(open().clients().ssm)).resolves.toMatchObject({ registered: 3 });
  });
});

describe("the standard tier's limit on registrations", () => {
  /** gpu-node-01 fetches its NodeConfig and tries to register a minute later. */
  async function register(estate: SandboxEstate) {
    const ssm = estate.clients().ssm;
    const { ActivationId, ActivationCode } = await ssm.send(
      new CreateActivationCommand({ IamRole: 'AmazonEKSHybridNodesRole', DefaultInstanceName: 'gpu-node-01' }),
    );
    const nodeConfig = [
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  cluster: { name: gpu-hybrid-cluster, region: ap-northeast-2 }',
      `  hybrid: { ssm: { activationCode: "${ActivationCode}", activationId: ${ActivationId} } }`,
      '  kubelet: { flags: [] }',
    ].join('\n');
    handOutNodeConfig(estate, JSON.stringify({ nodeConfig }));
    estate.advance(60);
    const found = [];
    for await (const page of paginateDescribeInstanceInformation(
      { client: ssm, pageSize: 50 },
      { Filters: [{ Key: 'ActivationIds', Values: [ActivationId ?? ''] }] },
    )) {
      found.push(...(page.InstanceInformationList ?? []));
    }
    return found;
  }
  const withOthers = (otherManagedInstances: number, activationTier: 'standard' | 'advanced' = 'standard') => {
    const seed = loadSeed(DEFAULT_SEED);
    const joins = seed.scenarios.joins;
    if (!joins) throw new Error('the seed has no joins scenario');
    return { ...seed, activationTier, scenarios: { ...seed.scenarios, full: { ...joins, otherManagedInstances } } };
  };

  it('registers the 1,000th on-prem instance', async () => {
    expect(await register(open('full', withOthers(996)))).toHaveLength(1);
  });

  it('refuses the 1,001st on the standard tier', async () => {
    expect(await register(open('full', withOthers(997)))).toHaveLength(0);
  });

  it('registers it on the advanced tier', async () => {
    expect(await register(open('full', withOthers(997, 'advanced')))).toHaveLength(1);
  });
});

describe('the scenario gpu-lost', () => {
  it("drops gpu-node-12's allocatable GPUs to 7 and keeps its capacity at 8", async () => {
    const estate = open('gpu-lost');
    await estate.clients().ssm.send(new GetServiceSettingCommand({ SettingId: TIER })); // the run starts
    const node = estate.state.nodes['mi-0a2b4c6d8e0f12342'];
    expect(node?.capacity.gpu).toBe('8');
    expect(node?.allocatable.gpu).toBe('7');
    expect(estate.state.nodes['mi-0a2b4c6d8e0f12343']?.allocatable.gpu).toBe('8');
  });

  it('loses no GPU in the default scenario', async () => {
    const estate = open();
    await estate.clients().ssm.send(new GetServiceSettingCommand({ SettingId: TIER }));
    expect(estate.state.nodes['mi-0a2b4c6d8e0f12342']?.allocatable.gpu).toBe('8');
  });
});
