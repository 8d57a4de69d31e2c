import {
  DescribeSecurityGroupRulesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  type FileSystemDescription,
} from '@aws-sdk/client-efs';
import {
  DescribeClusterCommand,
  EKSClient,
  type InsightSummary,
  ListInsightsCommand,
  type ListInsightsRequest,
  ResourceNotFoundException,
  ThrottlingException as EksThrottlingException,
} from '@aws-sdk/client-eks';
import {
  type Activation,
  DescribeActivationsCommand,
  type DescribeActivationsRequest,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationRequest,
  GetServiceSettingCommand,
  type InstanceInformation,
  SSMClient,
  SSMServiceException,
  ThrottlingException as SsmThrottlingException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { ClusterAccess, KubeNode, NodeReaderFactory } from '#lib/kube/types';
import { type DesiredState, validateDesiredState } from '#lib/desired-state/schema';
import {
  type ClusterInventory,
  type InventoryDeps,
  pathsToProbe,
  sweptClusters,
  takeInventory,
} from '#lib/sweep/inventory';
import {
  ACCOUNT,
  CA,
  CLUSTER,
  CLUSTER_ARN,
  eksCluster,
  ENDPOINT,
  kubeNode,
  REGION,
  ROLE_NAME,
  seedVpcs,
  VPC_ID,
} from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);
const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const efsMock = mockClient(EFSClient);

const credentials = { accessKeyId: 'x', secretAccessKey: 'y' };
const NOW = new Date('2026-11-22T06:00:00.000Z');

const EDGE = 'edge-cluster';
const EDGE_ARN = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${EDGE}`;
const EDGE_ENDPOINT = 'https://FEDCBA9876543210FEDCBA9876543210.gr7.ap-northeast-2.eks.amazonaws.com';
const RETIRED = 'retired-cluster';

// Managed instances: the cluster's four Nodes' (one without a name), an orphan tagged for it,
// and the edge cluster's Node.
const MI_2 = 'mi-0a2b4c6d8e0f12342';
const MI_3 = 'mi-0a2b4c6d8e0f12343';
const MI_4 = 'mi-0a2b4c6d8e0f12344';
const MI_NAMELESS = 'mi-0e0e0e0e0e0e0e0e0';
const MI_ORPHAN = 'mi-0d0d0d0d0d0d0d0d0';
const MI_EDGE = 'mi-0f0f0f0f0f0f0f0f0';
/** A Node whose managed instance SSM does not list (deregistered under it). */
const MI_GONE = 'mi-0c0c0c0c0c0c0c0c0';

const ACT_EXPIRED = '0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b';
const ACT_EDGE = '1a2b3c4d-0000-4000-8000-000000000002';
const ACT_UNTAGGED = '1a2b3c4d-0000-4000-8000-000000000003';
const ACT_USED = '1a2b3c4d-0000-4000-8000-000000000004';

const TIER_ARN = `arn:aws:ssm:${REGION}:${ACCOUNT}:servicesetting/ssm/managed-instance/activation-tier`;
const ALL_INSTANCES = [{ Key: 'ResourceType', Values: ['ManagedInstance'] }];
const taggedFor = (arn: string) => [
  { Key: 'tag:EKSClusterARN', Values: [arn] },
  { Key: 'tag-key', Values: ['hybridops:request-id'] },
];
const BY_ROLE = [{ FilterKey: 'IamRole', FilterValues: [ROLE_NAME] }];
const NOT_PASSING = { statuses: ['WARNING', 'ERROR', 'UNKNOWN'] };

const instance = (id: string, name: string | undefined, ip: string, ping = 'Online'): InstanceInformation => ({
  InstanceId: id,
  ...(name ? { Name: name } : {}),
  IPAddress: ip,
  PlatformName: 'Ubuntu',
  PlatformVersion: '22.04',
  PlatformType: 'Linux',
  ResourceType: 'ManagedInstance',
  PingStatus: ping as InstanceInformation['PingStatus'],
});
const ourTags = (arn: string, request: string) => [
  { Key: 'EKSClusterARN', Value: arn },
  { Key: 'hybridops:request-id', Value: request },
];

/** Each listing's pages; a page's token names its listing and index (`all#1`). */
function world() {
  return {
    tier: 'standard' as 'standard' | 'advanced',
    allInstances: [
      [
        instance(MI_2, 'gpu-node-12', '192.168.10.32'),
        instance(MI_3, 'gpu-node-13', '192.168.10.33', 'ConnectionLost'),
        { PingStatus: 'Online' } as InstanceInformation, // no id: not an instance to judge
      ],
      [
        {
          ...instance(MI_4, 'cpu-node-04', '192.168.10.34'),
          PlatformName: 'Rocky Linux',
          PlatformVersion: '9.3',
        },
        { InstanceId: MI_NAMELESS, ResourceType: 'ManagedInstance' } as InstanceInformation,
        instance(MI_EDGE, 'edge-node-01', '192.168.50.11'),
      ],
    ] as InstanceInformation[][],
    tagged: {
      [CLUSTER_ARN]: [
        [instance(MI_2, 'gpu-node-12', '192.168.10.32'), instance(MI_ORPHAN, 'gpu-node-09', '192.168.10.29')],
      ],
      [EDGE_ARN]: [[]],
    } as Record<string, InstanceInformation[][]>,
    activations: [
      [
        {
          ActivationId: ACT_EXPIRED,
          IamRole: ROLE_NAME,
          Expired: true,
          ExpirationDate: new Date('2026-11-20T06:00:00.000Z'),
          RegistrationsCount: 0,
          RegistrationLimit: 1,
          Tags: ourTags(CLUSTER_ARN, 'gpu-node-07-seeded'),
        },
        {
          ActivationId: ACT_EDGE,
          IamRole: ROLE_NAME,
          Expired: false,
          ExpirationDate: new Date('2026-11-23T00:00:00.000Z'),
          RegistrationsCount: 0,
          RegistrationLimit: 1,
          Tags: ourTags(EDGE_ARN, 'edge-node-02-x'),
        },
      ],
      [
        { ActivationId: ACT_UNTAGGED, IamRole: ROLE_NAME, ExpirationDate: new Date('2026-11-24T00:00:00.000Z') },
        // No Expired, no RegistrationLimit: read as not expired, a limit of 1.
        {
          ActivationId: ACT_USED,
          IamRole: ROLE_NAME,
          ExpirationDate: new Date('2026-11-23T12:00:00.000Z'),
          RegistrationsCount: 1,
          Tags: ourTags(CLUSTER_ARN, 'gpu-node-08-x'),
        },
        { IamRole: ROLE_NAME, Tags: ourTags(CLUSTER_ARN, 'no-id') },
      ],
    ] as Activation[][],
    nodes: {
      [CLUSTER]: [
        [
          kubeNode({
            name: MI_2,
            internalIps: ['192.168.10.32'],
            ready: { status: 'True', reason: 'KubeletReady', since: '2026-09-23T06:00:00Z' },
          }),
          kubeNode({
            name: MI_3,
            internalIps: ['192.168.10.33'],
            ready: { status: 'False', reason: 'NodeStatusUnknown', since: '2026-11-21T00:00:00Z' },
          }),
        ],
        [
          kubeNode({
            name: MI_4,
            internalIps: ['192.168.10.34', '192.168.11.24'],
            capacity: { cpu: '3500m' },
            unschedulable: true,
          }),
          kubeNode({ name: MI_NAMELESS, internalIps: ['192.168.10.30'], ready: undefined, capacity: { cpu: '16' } }),
          kubeNode({ name: MI_GONE, internalIps: [], ready: { status: 'Unknown' }, capacity: {} }),
        ],
      ],
      [EDGE]: [[kubeNode({ name: MI_EDGE, internalIps: ['192.168.50.11'], capacity: { cpu: '8' } })]],
    } as Record<string, KubeNode[][]>,
    insights: {
      [CLUSTER]: [
        [
          {
            id: 'insight-1',
            name: 'Hybrid nodes remote network configuration',
            category: 'MISCONFIGURATION',
            description: 'Checks the remote node and pod networks of the cluster.',
            insightStatus: { status: 'WARNING', reason: 'A remote pod network overlaps the VPC.' },
          },
          { name: 'no id' },
        ],
        [
          {
            id: 'insight-2',
            name: 'Kubelet version skew',
            category: 'UPGRADE_READINESS',
            insightStatus: { status: 'ERROR' },
          },
        ],
      ],
      [EDGE]: [[]],
    } as Record<string, InsightSummary[][]>,
  };
}
type World = ReturnType<typeof world>;

const pageOf = <T>(pages: T[][], listing: string, token: string | undefined) => {
  const n = token === undefined ? 0 : Number(token.split('#')[1]);
  return { items: pages[n] ?? [], next: n + 1 < pages.length ? `${listing}#${n + 1}` : undefined };
};

/**
 * Answers every call from `w`. The paginators send one request object and set its token in place
 * for the next page, so each request is copied as it is sent.
 */
function answerFrom(w: World) {
  const seen = {
    instances: [] as DescribeInstanceInformationRequest[],
    activations: [] as DescribeActivationsRequest[],
    insights: [] as ListInsightsRequest[],
    readers: [] as ClusterAccess[],
    nodePageSizes: [] as Array<number | undefined>,
  };
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationRequest) => {
    seen.instances.push(structuredClone(input));
    const first = input.Filters?.[0];
    const [pages, listing] =
      first?.Key === 'ResourceType'
        ? [w.allInstances, 'all']
        : [w.tagged[first?.Values?.[0] ?? ''] ?? [[]], `tagged-${first?.Values?.[0]}`];
    const { items, next } = pageOf(pages, listing, input.NextToken);
    return { InstanceInformationList: items, NextToken: next };
  });
  ssmMock.on(GetServiceSettingCommand).resolves({
    ServiceSetting: { SettingId: '/ssm/managed-instance/activation-tier', SettingValue: w.tier, ARN: TIER_ARN },
  });
  ssmMock.on(DescribeActivationsCommand).callsFake((input: DescribeActivationsRequest) => {
    seen.activations.push(structuredClone(input));
    const { items, next } = pageOf(w.activations, 'activations', input.NextToken);
    return { ActivationList: items, NextToken: next };
  });
  eksMock.on(DescribeClusterCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'No cluster' }));
  eksMock.on(DescribeClusterCommand, { name: CLUSTER }).resolves({ cluster: eksCluster() });
  eksMock.on(DescribeClusterCommand, { name: EDGE }).resolves({
    cluster: eksCluster({
      name: EDGE,
      arn: EDGE_ARN,
      endpoint: EDGE_ENDPOINT,
      certificateAuthority: { data: 'RURHRS1DQQ==' },
    }),
  });
  ec2Mock.on(DescribeVpcsCommand).resolves(seedVpcs());
  eksMock.on(ListInsightsCommand).callsFake((input: ListInsightsRequest) => {
    seen.insights.push(structuredClone(input));
    const { items, next } = pageOf(w.insights[input.clusterName ?? ''] ?? [[]], 'insights', input.nextToken);
    return { insights: items, nextToken: next };
  });
  const nodes: NodeReaderFactory = (cluster) => {
    seen.readers.push(cluster);
    return {
      getNode: async () => {
        throw new Error('the inventory lists Nodes, it does not get them one by one');
      },
      async *listHybridNodes(pageSize) {
        seen.nodePageSizes.push(pageSize);
        for (const page of w.nodes[cluster.name] ?? [[]]) yield structuredClone(page);
      },
    };
  };
  return { seen, nodes };
}

function deps(nodes: NodeReaderFactory): InventoryDeps {
  return {
    ssm: new SSMClient({ region: REGION, credentials }),
    eks: new EKSClient({ region: REGION, credentials }),
    ec2: new EC2Client({ region: REGION, credentials }),
    efs: new EFSClient({ region: REGION, credentials }),
    nodes,
  };
}

function desired(value: unknown): DesiredState {
  const result = validateDesiredState(value);
  if (!result.ok) throw new Error(`test desired state is invalid: ${result.problems.join('; ')}`);
  return result.state;
}

/** The stage cluster with two forwarding rules that share a server, and on-prem NFS declared twice. */
const stageState = () =>
  desired({
    version: 1,
    clusters: [
      {
        name: CLUSTER,
        dns: {
          outbound: {
            endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
            rules: [
              { domain: 'company.local', targets: [{ ip: '192.168.1.53' }, { ip: '192.168.1.54', port: 53 }] },
              {
                domain: 'corp.internal',
                targets: [
                  { ip: '192.168.1.53', port: 53 },
                  { ip: '192.168.1.53', port: 5353 },
                ],
              },
            ],
          },
        },
        onPremNfs: [{ ip: '192.168.30.5', name: 'nas-01' }, { ip: '192.168.30.6' }, { ip: '192.168.30.5' }],
      },
    ],
  });

const take = (nodes: NodeReaderFactory, state: DesiredState = stageState(), stageCluster = CLUSTER) =>
  takeInventory(deps(nodes), {
    desired: state,
    stageCluster,
    region: REGION,
    hybridNodesRoleName: ROLE_NAME,
    now: NOW,
  });

beforeEach(() => {
  ssmMock.reset();
  eksMock.reset();
  ec2Mock.reset();
  efsMock.reset();
});

describe('takeInventory', () => {
  it("reads SSM's activation tier once, and counts every on-prem instance of the account toward it", async () => {
    const { nodes } = answerFrom(world());

    const inventory = await take(nodes);

    expect(ssmMock.commandCalls(GetServiceSettingCommand).map((c) => c.args[0].input)).toEqual([
      { SettingId: '/ssm/managed-instance/activation-tier' },
    ]);
    // The five with an id on the two pages of every ManagedInstance: the edge cluster's too.
    expect(inventory.ssmQuota).toEqual({ tier: 'standard', registered: 5, limit: 1000, settingArn: TIER_ARN });
  });

  it('keeps a tier it cannot read as a problem, never as advanced, and still takes the inventory', async () => {
    const { nodes } = answerFrom(world());
    ssmMock.on(GetServiceSettingCommand).rejects(
      new SSMServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized to perform: ssm:GetServiceSetting',
      }),
    );

    const inventory = await take(nodes);

    expect(inventory.ssmQuota).toEqual({
      problem: {
        error: 'ActivationTierUnreadableError',
        message: expect.stringContaining('AccessDeniedException: not authorized to perform: ssm:GetServiceSetting'),
        fix: expect.stringContaining('Allow ssm:GetServiceSetting'),
      },
    });
    expect(inventory.clusters.map((c) => c.name)).toEqual([CLUSTER]);
  });

  it("reads each GPU Node's capacity and allocatable nvidia.com/gpu; none allocatable when absent", async () => {
    const w = world();
    const [first] = w.nodes[CLUSTER] ?? [];
    first?.splice(
      0,
      2,
      kubeNode({ name: MI_2, internalIps: ['192.168.10.32'], allocatable: { cpu: '224', gpu: '7' } }),
      kubeNode({ name: MI_3, internalIps: ['192.168.10.33'], allocatable: { cpu: '224' } }),
    );
    const { nodes } = answerFrom(w);

    const [cluster] = (await take(nodes)).clusters;

    expect(cluster?.nodes.map((n) => [n.name, n.gpus])).toEqual([
      [MI_2, { capacity: 8, allocatable: 7 }],
      [MI_3, { capacity: 8, allocatable: 0 }],
      [MI_4, undefined],
      [MI_NAMELESS, undefined],
      [MI_GONE, undefined],
    ]);
  });

  it('reads every hybrid managed instance and activation once, page by page at 50 a page', async () => {
    const { seen, nodes } = answerFrom(world());

    const inventory = await take(nodes);

    expect(seen.instances).toEqual([
      { Filters: ALL_INSTANCES, MaxResults: 50 },
      { Filters: ALL_INSTANCES, MaxResults: 50, NextToken: 'all#1' },
      { Filters: taggedFor(CLUSTER_ARN), MaxResults: 50 },
    ]);
    expect(seen.activations).toEqual([
      { Filters: BY_ROLE, MaxResults: 50 },
      { Filters: BY_ROLE, MaxResults: 50, NextToken: 'activations#1' },
    ]);
    expect(inventory.pages['ssm:DescribeInstanceInformation']).toBe(3);
    expect(inventory.pages['ssm:DescribeActivations']).toBe(2);
  });

  it('reads the cluster, its VPC, its Nodes 500 a page and its insights 100 a page, and counts the list pages', async () => {
    const { seen, nodes } = answerFrom(world());

    const inventory = await take(nodes);

    expect(eksMock.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input)).toEqual([{ name: CLUSTER }]);
    expect(ec2Mock.commandCalls(DescribeVpcsCommand).map((c) => c.args[0].input)).toEqual([{ VpcIds: [VPC_ID] }]);
    expect(seen.readers).toEqual([{ name: CLUSTER, region: REGION, endpoint: ENDPOINT, certificateAuthority: CA }]);
    expect(seen.nodePageSizes).toEqual([500]);
    expect(seen.insights).toEqual([
      { clusterName: CLUSTER, filter: NOT_PASSING, maxResults: 100 },
      { clusterName: CLUSTER, filter: NOT_PASSING, maxResults: 100, nextToken: 'insights#1' },
    ]);
    expect(inventory.takenAt).toBe('2026-11-22T06:00:00.000Z');
    expect(inventory.pages).toEqual({
      'ssm:DescribeInstanceInformation': 3,
      'ssm:DescribeActivations': 2,
      'kubernetes:ListNodes': 2,
      'eks:ListInsights': 2,
    });
    // Each count is the requests that API really received.
    expect(inventory.pages['ssm:DescribeInstanceInformation']).toBe(
      ssmMock.commandCalls(DescribeInstanceInformationCommand).length,
    );
    expect(inventory.pages['ssm:DescribeActivations']).toBe(ssmMock.commandCalls(DescribeActivationsCommand).length);
    expect(inventory.pages['eks:ListInsights']).toBe(eksMock.commandCalls(ListInsightsCommand).length);
  });

  it("takes as the cluster's instances its Nodes' and those tagged for it, and calls only the tagged ones ours", async () => {
    const { nodes } = answerFrom(world());

    const [cluster] = (await take(nodes)).clusters;

    expect(cluster?.instances).toEqual([
      {
        instanceId: MI_2,
        name: 'gpu-node-12',
        platformName: 'Ubuntu',
        platformVersion: '22.04',
        ipAddress: '192.168.10.32',
        pingStatus: 'Online',
        ours: true,
      },
      {
        instanceId: MI_ORPHAN,
        name: 'gpu-node-09',
        platformName: 'Ubuntu',
        platformVersion: '22.04',
        ipAddress: '192.168.10.29',
        pingStatus: 'Online',
        ours: true,
      },
      {
        instanceId: MI_3,
        name: 'gpu-node-13',
        platformName: 'Ubuntu',
        platformVersion: '22.04',
        ipAddress: '192.168.10.33',
        pingStatus: 'ConnectionLost',
        ours: false,
      },
      {
        instanceId: MI_4,
        name: 'cpu-node-04',
        platformName: 'Rocky Linux',
        platformVersion: '9.3',
        ipAddress: '192.168.10.34',
        pingStatus: 'Online',
        ours: false,
      },
      { instanceId: MI_NAMELESS, ours: false },
    ]);
  });

  it('keeps the activations tagged for the cluster, with the defaults SSM leaves out', async () => {
    const { nodes } = answerFrom(world());

    const [cluster] = (await take(nodes)).clusters;

    expect(cluster?.activations).toEqual([
      {
        id: ACT_EXPIRED,
        expired: true,
        expirationDate: '2026-11-20T06:00:00.000Z',
        registrationsCount: 0,
        registrationLimit: 1,
        tags: ourTags(CLUSTER_ARN, 'gpu-node-07-seeded'),
      },
      {
        id: ACT_USED,
        expired: false,
        expirationDate: '2026-11-23T12:00:00.000Z',
        registrationsCount: 1,
        registrationLimit: 1,
        tags: ourTags(CLUSTER_ARN, 'gpu-node-08-x'),
      },
    ]);
  });

  it('maps each Node: vCPUs from its capacity, Ready, when that last changed, why it is not Ready, cordoned', async () => {
    const { nodes } = answerFrom(world());

    const [cluster] = (await take(nodes)).clusters;

    expect(cluster?.nodes).toEqual([
      {
        name: MI_2,
        internalIps: ['192.168.10.32'],
        vcpus: 224,
        ready: true,
        since: '2026-09-23T06:00:00Z',
        gpus: { capacity: 8, allocatable: 8 },
      },
      {
        name: MI_3,
        internalIps: ['192.168.10.33'],
        vcpus: 224,
        ready: false,
        since: '2026-11-21T00:00:00Z',
        reason: 'NodeStatusUnknown',
        gpus: { capacity: 8, allocatable: 8 },
      },
      { name: MI_4, internalIps: ['192.168.10.34', '192.168.11.24'], vcpus: 3.5, ready: true, cordoned: true },
      { name: MI_NAMELESS, internalIps: ['192.168.10.30'], vcpus: 16, ready: false, reason: 'no Ready condition' },
      { name: MI_GONE, internalIps: [], vcpus: 0, ready: false, reason: 'Ready Unknown' },
    ]);
    expect(cluster?.nodes[0]).not.toHaveProperty('reason');
    expect(cluster?.nodes[2]).not.toHaveProperty('since');
    expect(cluster?.nodes[0]).not.toHaveProperty('cordoned');
  });

  it("keeps the cluster's network facts and the insights that are not passing", async () => {
    const { nodes } = answerFrom(world());

    const [cluster] = (await take(nodes)).clusters;

    expect(cluster?.name).toBe(CLUSTER);
    expect(cluster?.problem).toBeUndefined();
    expect(cluster?.facts).toEqual({
      name: CLUSTER,
      arn: CLUSTER_ARN,
      vpcCidrs: ['10.0.0.0/16'],
      serviceCidr: '10.96.0.0/16',
      remoteNodeCidrs: ['192.168.0.0/16'],
      remotePodCidrs: ['10.244.0.0/16'],
    });
    expect(cluster?.insights).toEqual([
      {
        id: 'insight-1',
        name: 'Hybrid nodes remote network configuration',
        category: 'MISCONFIGURATION',
        description: 'Checks the remote node and pod networks of the cluster.',
        status: 'WARNING',
        recommendation: 'A remote pod network overlaps the VPC.',
      },
      { id: 'insight-2', name: 'Kubelet version skew', category: 'UPGRADE_READINESS', status: 'ERROR' },
    ]);
  });

  it("lists every Node's kubelet, each DNS server and each NFS server to probe, once per host and port", async () => {
    const { nodes } = answerFrom(world());

    const inventory = await take(nodes);

    const probe = (kind: string, host: string, port: number, name: string) => ({
      cluster: CLUSTER,
      kind,
      host,
      port,
      name,
    });
    expect(inventory.targets).toEqual([
      probe('kubelet', '192.168.10.32', 10250, `${MI_2} (gpu-node-12)`),
      probe('kubelet', '192.168.10.33', 10250, `${MI_3} (gpu-node-13)`),
      probe('kubelet', '192.168.10.34', 10250, `${MI_4} (cpu-node-04)`),
      probe('kubelet', '192.168.10.30', 10250, MI_NAMELESS),
      probe('dns', '192.168.1.53', 53, 'DNS server for company.local'),
      probe('dns', '192.168.1.54', 53, 'DNS server for company.local'),
      probe('dns', '192.168.1.53', 5353, 'DNS server for corp.internal'),
      probe('nfs', '192.168.30.5', 2049, 'nas-01'),
      probe('nfs', '192.168.30.6', 2049, 'on-prem NFS'),
    ]);
  });

  it('reads no EFS, subnet or security group when the cluster declares no EFS', async () => {
    const { nodes } = answerFrom(world());

    const [cluster] = (await take(nodes)).clusters;

    expect(efsMock.calls()).toHaveLength(0);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSubnetsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
    expect(cluster).not.toHaveProperty('efs');
  });

  it('reads the file system, its mount targets, the subnets and the rules when the cluster declares EFS', async () => {
    const FS = 'fs-0a1b2c3d4e5f60718';
    const SG = 'sg-0e5f0a1b2c3d40718';
    const { nodes } = answerFrom(world());
    const fileSystem: FileSystemDescription = {
      OwnerId: ACCOUNT,
      CreationToken: 'hybrid-shared',
      FileSystemId: FS,
      CreationTime: new Date('2026-01-01T00:00:00Z'),
      LifeCycleState: 'available',
      NumberOfMountTargets: 1,
      SizeInBytes: { Value: 6144 },
      PerformanceMode: 'generalPurpose',
      Encrypted: false,
      Tags: [],
    };
    efsMock.on(DescribeFileSystemsCommand).resolves({ FileSystems: [fileSystem] });
    efsMock.on(DescribeMountTargetsCommand).resolves({
      MountTargets: [
        {
          MountTargetId: 'fsmt-0a1b2c3d4e5f60718',
          FileSystemId: FS,
          SubnetId: 'subnet-0aa1a1a1a1a1a1a1a',
          LifeCycleState: 'available',
          IpAddress: '10.0.1.25',
          AvailabilityZoneName: 'ap-northeast-2a',
        },
      ],
    });
    ec2Mock.on(DescribeSubnetsCommand).resolves({
      Subnets: [
        { SubnetId: 'subnet-0aa1a1a1a1a1a1a1a', AvailabilityZone: 'ap-northeast-2a' },
        { SubnetId: 'subnet-0bb2b2b2b2b2b2b2b', AvailabilityZone: 'ap-northeast-2c' },
      ],
    });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-0aaaa0000000000a1',
          GroupId: SG,
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 2049,
          ToPort: 2049,
          CidrIpv4: '10.0.0.0/16',
        },
        {
          SecurityGroupRuleId: 'sgr-0bbbb0000000000b2',
          GroupId: SG,
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 2049,
          ToPort: 2049,
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    });
    const state = desired({
      version: 1,
      clusters: [
        {
          name: CLUSTER,
          efs: { fileSystemId: FS, securityGroupId: SG, podsNatted: false, extraCidrs: ['172.20.0.0/16'] },
        },
      ],
    });

    const inventory = await take(nodes, state);

    expect(efsMock.commandCalls(DescribeFileSystemsCommand).map((c) => c.args[0].input)).toEqual([
      { FileSystemId: FS },
    ]);
    // No MaxItems: EFS ignores it (10 a page).
    expect(efsMock.commandCalls(DescribeMountTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { FileSystemId: FS },
    ]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input)).toEqual([
      { SubnetIds: ['subnet-0aa1a1a1a1a1a1a1a', 'subnet-0bb2b2b2b2b2b2b2b'] },
    ]);
    expect(ec2Mock.commandCalls(DescribeSecurityGroupRulesCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'group-id', Values: [SG] }], MaxResults: 1000 },
    ]);
    expect(inventory.clusters[0]?.efs).toEqual({
      fileSystemId: FS,
      encrypted: false,
      securityGroupId: SG,
      rules: [
        {
          id: 'sgr-0aaaa0000000000a1',
          isEgress: false,
          protocol: 'tcp',
          fromPort: 2049,
          toPort: 2049,
          cidr: '10.0.0.0/16',
        },
        {
          id: 'sgr-0bbbb0000000000b2',
          isEgress: false,
          protocol: 'tcp',
          fromPort: 2049,
          toPort: 2049,
          cidr: '0.0.0.0/0',
        },
      ],
      // Pods are not NATted, so their CIDR may mount too.
      allowedCidrs: ['10.0.0.0/16', '192.168.0.0/16', '10.244.0.0/16', '172.20.0.0/16'],
    });
    // The EFS reads are single reads of one file system and its group, not lists that grow with the estate.
    expect(inventory.pages).toEqual({
      'ssm:DescribeInstanceInformation': 3,
      'ssm:DescribeActivations': 2,
      'kubernetes:ListNodes': 2,
      'eks:ListInsights': 2,
    });
  });

  it('sweeps the stage cluster first when the desired state does not declare it, and a missing cluster does not stop the others', async () => {
    const { seen, nodes } = answerFrom(world());
    const state = desired({ version: 1, clusters: [{ name: RETIRED }, { name: EDGE }] });

    const inventory = await take(nodes, state);

    expect(eksMock.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input.name)).toEqual([
      CLUSTER,
      RETIRED,
      EDGE,
    ]);
    expect(inventory.clusters.map((c) => c.name)).toEqual([CLUSTER, RETIRED, EDGE]);
    const retired = inventory.clusters[1];
    expect(retired).toEqual({
      name: RETIRED,
      problem: {
        error: 'ClusterNotFoundError',
        message: expect.stringContaining(`EKS cluster '${RETIRED}' does not exist in this account and Region.`),
        fix: 'Check the cluster name and the Region this stage is deployed to (aws eks list-clusters).',
      },
      nodes: [],
      instances: [],
      activations: [],
      insights: [],
    });
    // Nothing more is asked about the missing cluster.
    expect(seen.readers.map((r) => r.name)).toEqual([CLUSTER, EDGE]);
    expect(seen.insights.filter((i) => i.nextToken === undefined).map((i) => i.clusterName)).toEqual([CLUSTER, EDGE]);
    expect(seen.instances.map((i) => i.Filters)).toEqual([
      ALL_INSTANCES,
      ALL_INSTANCES,
      taggedFor(CLUSTER_ARN),
      taggedFor(EDGE_ARN),
    ]);
    // The account-wide lists are read once for all clusters.
    expect(seen.activations).toHaveLength(2);

    const edge = inventory.clusters[2];
    expect(edge?.facts?.arn).toBe(EDGE_ARN);
    expect(seen.readers[1]).toEqual({
      name: EDGE,
      region: REGION,
      endpoint: EDGE_ENDPOINT,
      certificateAuthority: 'RURHRS1DQQ==',
    });
    expect(edge?.nodes.map((n) => n.name)).toEqual([MI_EDGE]);
    expect(edge?.instances).toEqual([
      expect.objectContaining({ instanceId: MI_EDGE, name: 'edge-node-01', ours: false }),
    ]);
    expect(edge?.activations.map((a) => a.id)).toEqual([ACT_EDGE]);
    expect(inventory.clusters[0]?.activations.map((a) => a.id)).toEqual([ACT_EXPIRED, ACT_USED]);
    // The stage cluster is not declared, so only its kubelets are probed; the missing one has none.
    expect(inventory.targets.map((t) => `${t.cluster} ${t.kind} ${t.host}:${t.port}`)).toEqual([
      `${CLUSTER} kubelet 192.168.10.32:10250`,
      `${CLUSTER} kubelet 192.168.10.33:10250`,
      `${CLUSTER} kubelet 192.168.10.34:10250`,
      `${CLUSTER} kubelet 192.168.10.30:10250`,
      `${EDGE} kubelet 192.168.50.11:10250`,
    ]);
  });

  it.each([
    [
      'DescribeCluster',
      () =>
        eksMock
          .on(DescribeClusterCommand)
          .rejects(new EksThrottlingException({ $metadata: {}, message: 'Rate exceeded' })),
    ],
    [
      'ListInsights',
      () =>
        eksMock
          .on(ListInsightsCommand)
          .rejects(new EksThrottlingException({ $metadata: {}, message: 'Rate exceeded' })),
    ],
    [
      'DescribeActivations',
      () =>
        ssmMock
          .on(DescribeActivationsCommand)
          .rejects(new SsmThrottlingException({ $metadata: {}, message: 'Rate exceeded', Message: 'Rate exceeded' })),
    ],
  ])('lets a ThrottlingException from %s fail the inventory, to be retried', async (_api, throttle) => {
    const { nodes } = answerFrom(world());
    throttle();

    await expect(take(nodes)).rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
  });

  it('keeps the SDK error itself when DescribeCluster is throttled, not a ClusterNotFoundError', async () => {
    const { nodes } = answerFrom(world());
    const throttled = new EksThrottlingException({ $metadata: {}, message: 'Rate exceeded' });
    eksMock.on(DescribeClusterCommand).rejects(throttled);

    await expect(take(nodes)).rejects.toBe(throttled);
  });
});

describe('sweptClusters', () => {
  it('sweeps the declared clusters as declared when the stage cluster is one of them', () => {
    const state = desired({
      version: 1,
      clusters: [{ name: EDGE }, { name: CLUSTER, onPremNfs: [{ ip: '192.168.30.5' }] }],
    });

    expect(sweptClusters(state, CLUSTER)).toEqual([
      { name: EDGE },
      { name: CLUSTER, onPremNfs: [{ ip: '192.168.30.5' }] },
    ]);
  });

  it('adds the stage cluster first when it is not declared', () => {
    expect(sweptClusters(desired({ version: 1, clusters: [{ name: EDGE }] }), CLUSTER)).toEqual([
      { name: CLUSTER },
      { name: EDGE },
    ]);
    expect(sweptClusters(desired({ version: 1, clusters: [] }), CLUSTER)).toEqual([{ name: CLUSTER }]);
  });
});

describe('pathsToProbe', () => {
  const inventoryOf = (overrides: Partial<ClusterInventory>): ClusterInventory => ({
    name: CLUSTER,
    nodes: [],
    instances: [],
    activations: [],
    insights: [],
    ...overrides,
  });
  const node = (name: string, internalIps: string[]) => ({ name, internalIps, vcpus: 8, ready: true });

  it("probes each Node's first internal IP on the kubelet port, named with its instance's name when known", () => {
    const inventory = inventoryOf({
      nodes: [node(MI_2, ['192.168.10.32', '192.168.11.22']), node(MI_GONE, ['192.168.10.40']), node(MI_3, [])],
      instances: [{ instanceId: MI_2, name: 'gpu-node-12', ours: true }],
    });

    expect(pathsToProbe({ name: CLUSTER }, inventory)).toEqual([
      { cluster: CLUSTER, kind: 'kubelet', host: '192.168.10.32', port: 10250, name: `${MI_2} (gpu-node-12)` },
      { cluster: CLUSTER, kind: 'kubelet', host: '192.168.10.40', port: 10250, name: MI_GONE },
    ]);
  });

  it('probes a host:port once, the first way it is declared, and the same host on another port again', () => {
    const [declared] = desired({
      version: 1,
      clusters: [
        {
          name: CLUSTER,
          dns: {
            outbound: {
              endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
              rules: [
                { domain: 'a.local', targets: [{ ip: '192.168.1.53' }] },
                {
                  domain: 'b.local',
                  targets: [
                    { ip: '192.168.1.53', port: 53 },
                    { ip: '192.168.10.32', port: 53 },
                  ],
                },
              ],
            },
          },
          onPremNfs: [
            { ip: '192.168.10.32', name: 'shared' },
            { ip: '192.168.10.32', name: 'again' },
          ],
        },
      ],
    }).clusters;
    const inventory = inventoryOf({ name: 'named-by-inventory', nodes: [node(MI_2, ['192.168.10.32'])] });

    expect(pathsToProbe(declared ?? { name: CLUSTER }, inventory)).toEqual([
      { cluster: 'named-by-inventory', kind: 'kubelet', host: '192.168.10.32', port: 10250, name: MI_2 },
      { cluster: 'named-by-inventory', kind: 'dns', host: '192.168.1.53', port: 53, name: 'DNS server for a.local' },
      { cluster: 'named-by-inventory', kind: 'dns', host: '192.168.10.32', port: 53, name: 'DNS server for b.local' },
      { cluster: 'named-by-inventory', kind: 'nfs', host: '192.168.10.32', port: 2049, name: 'shared' },
    ]);
  });

  it('has nothing to probe for a cluster with no Nodes and nothing declared', () => {
    expect(pathsToProbe({ name: RETIRED }, inventoryOf({ name: RETIRED }))).toEqual([]);
  });
});
