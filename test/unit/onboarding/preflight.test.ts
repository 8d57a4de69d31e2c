import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  ListAccessEntriesCommand,
} from '@aws-sdk/client-eks';
import { GetParameterCommand, ParameterAlreadyExists, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { preflight } from '#lib/onboarding/preflight';
import { ONBOARDING_TIMINGS } from '#lib/settings';
import {
  CA,
  CLUSTER_ARN,
  ENDPOINT,
  eksCluster,
  gpuRequestBody,
  LOCK_PARAMETER,
  onboardingInput,
  REQUEST_ID,
  ROLE_ARN,
  seedVpcs,
  settings,
} from '#test/helpers/onboarding-fixtures';

const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);

const deps = () => ({
  clients: {
    eks: new EKSClient({ region: 'ap-northeast-2' }),
    ec2: new EC2Client({ region: 'ap-northeast-2' }),
    ssm: new SSMClient({ region: 'ap-northeast-2' }),
  },
  settings: settings(),
  clock: new ManualClock('2026-11-22T00:00:00Z'),
});

/** The seed estate: an ACTIVE cluster that can take the node, and no lock on it yet. */
function arrangeSeedEstate() {
  eksMock.on(DescribeClusterCommand).resolves({ cluster: eksCluster() });
  ec2Mock.on(DescribeVpcsCommand).resolves(seedVpcs());
  eksMock.on(ListAccessEntriesCommand).resolves({ accessEntries: [ROLE_ARN] });
  eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: ROLE_ARN, type: 'HYBRID_LINUX' } });
  ssmMock.on(PutParameterCommand).resolves({ Version: 1 });
}

describe('preflight', () => {
  beforeEach(() => {
    eksMock.reset();
    ec2Mock.reset();
    ssmMock.reset();
  });

  it('checks the cluster, takes the node lock and says where to reach the cluster', async () => {
    arrangeSeedEstate();

    const result = await preflight(deps(), onboardingInput());

    expect(result).toEqual({
      startedAt: '2026-11-22T00:00:00.000Z',
      checkedAt: '2026-11-22T00:00:00.000Z',
      clusterArn: CLUSTER_ARN,
      clusterVersion: '1.33',
      kubernetesVersion: '1.33',
      activationExpiresAt: '2026-11-23T00:00:00.000Z',
      lockParameter: '/eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-01',
      clusterAccess: {
        name: 'gpu-hybrid-cluster',
        region: 'ap-northeast-2',
        endpoint: ENDPOINT,
        certificateAuthority: CA,
      },
    });
    const puts = ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([{ Name: LOCK_PARAMETER, Type: 'String', Value: expect.any(String), Overwrite: false }]);
    const lock = JSON.parse(puts[0]?.Value ?? '{}') as { requestId: string; expiresAt: string };
    expect(lock.requestId).toBe(REQUEST_ID);
    // The lock must outlive the activation by as long as the workflow may still run after a
    // last-minute registration: the Node's join timeout plus the CNI grace period.
    const t = ONBOARDING_TIMINGS;
    expect(Date.parse(lock.expiresAt) - Date.parse(result.activationExpiresAt)).toBeGreaterThanOrEqual(
      (t.nodeJoinTimeoutMinutes + t.cniGraceMinutes) * 60_000,
    );
  });

  it.each([
    [1, '2026-11-22T01:00:00.000Z'],
    [6, '2026-11-22T06:00:00.000Z'],
    [720, '2026-12-22T00:00:00.000Z'],
  ])('sets the activation to expire %p hours from now', async (hours, expected) => {
    arrangeSeedEstate();

    const result = await preflight(deps(), onboardingInput({ ...gpuRequestBody(), activationExpiresInHours: hours }));

    expect(result.activationExpiresAt).toBe(expected);
  });

  it('defaults the activation to 24 hours and the kubelet to the cluster version', async () => {
    arrangeSeedEstate();
    const { activationExpiresInHours: _, ...body } = gpuRequestBody();

    const result = await preflight(deps(), onboardingInput(body));

    expect(result.activationExpiresAt).toBe('2026-11-23T00:00:00.000Z');
    expect(result.kubernetesVersion).toBe('1.33');
  });

  it('carries a requested older kubelet version through', async () => {
    arrangeSeedEstate();

    const result = await preflight(deps(), onboardingInput({ ...gpuRequestBody(), kubernetesVersion: '1.31' }));

    expect(result).toMatchObject({ clusterVersion: '1.33', kubernetesVersion: '1.31' });
  });

  it('takes no lock when the cluster cannot take the node', async () => {
    arrangeSeedEstate();
    eksMock.on(DescribeClusterCommand).resolves({ cluster: eksCluster({ status: 'UPDATING' }) });

    await expect(preflight(deps(), onboardingInput())).rejects.toMatchObject({ name: 'ClusterNotActiveError' });

    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(eksMock).not.toHaveReceivedCommand(ListAccessEntriesCommand);
  });

  it('takes no lock when the hybrid nodes role has no access entry', async () => {
    arrangeSeedEstate();
    eksMock.on(ListAccessEntriesCommand).resolves({ accessEntries: [] });

    await expect(preflight(deps(), onboardingInput())).rejects.toMatchObject({
      name: 'HybridAccessEntryMissingError',
    });

    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('rejects a malformed request before asking AWS anything', async () => {
    arrangeSeedEstate();
    const body = { ...gpuRequestBody(), node: { ...gpuRequestBody().node, ip: '192.168.10.300' } };

    await expect(preflight(deps(), onboardingInput(body))).rejects.toMatchObject({ name: 'InvalidRequestError' });

    expect(eksMock).not.toHaveReceivedCommand(DescribeClusterCommand);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('fails with OnboardingInProgressError when another request holds the node', async () => {
    arrangeSeedEstate();
    ssmMock
      .on(PutParameterCommand, { Overwrite: false })
      .rejects(new ParameterAlreadyExists({ $metadata: {}, message: 'exists' }));
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({ requestId: 'gpu-node-01-ffffffffffff', expiresAt: '2026-11-23T00:00:00Z' }),
      },
    });

    await expect(preflight(deps(), onboardingInput())).rejects.toMatchObject({ name: 'OnboardingInProgressError' });
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
  });
});
