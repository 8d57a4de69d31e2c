import {
  DescribeSecurityGroupRulesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  GetResolverEndpointCommand,
  IpAddressStatus,
  ListResolverEndpointIpAddressesCommand,
  type ListResolverEndpointIpAddressesRequest,
  ListResolverRuleAssociationsCommand,
  ListResolverRulesCommand,
  ListTagsForResourceCommand,
  type ResolverEndpoint,
  ResourceNotFoundException,
  Route53ResolverServiceException,
} from '@aws-sdk/client-route53resolver';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { mockResolver, r53 } from '#test/helpers/resolver-mock';
import {
  CLUSTER_OWNER,
  CTX,
  FS_ID,
  OTHER_VPC,
  OUTBOUND_ID,
  RULE_COMPANY,
  RULE_OTHER_TEAM,
  SG_ID,
  SUBNET_B,
} from '#test/helpers/network-fixtures';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { type ClusterDesiredState, DEFAULT_MOUNT_OPTIONS } from '#lib/desired-state/schema';
import { inboundEndpointFindings } from '#lib/network/inbound-endpoint';
import { planCluster } from '#lib/network/planning';
import { ACCOUNT, CLUSTER, eksCluster, REGION, seedVpcs, VPC_ID } from '#test/helpers/onboarding-fixtures';

const resolverMock = mockResolver();
const ec2Mock = mockClient(EC2Client);
const efsMock = mockClient(EFSClient);
const eksMock = mockClient(EKSClient);

const INBOUND_ID = 'rslvr-in-0a1b2c3d4e5f60718';
const SUBNET_A = 'subnet-0aa1a1a1a1a1a1a1a';
const SUBNET_A2 = 'subnet-0aa3a3a3a3a3a3a3a';
const RULE_LAB = 'rslvr-rr-01a1a1a1a1a1a1a1a';
const ruleArn = (id: string) => `arn:aws:route53resolver:${REGION}:${ACCOUNT}:resolver-rule/${id}`;

const clients = () => createAllAwsClients({ region: REGION });

/** The seed cluster's desired state, with a second domain forwarded from two VPCs. */
function clusterState(): ClusterDesiredState {
  return {
    name: CLUSTER,
    dns: {
      outbound: {
        endpointId: OUTBOUND_ID,
        rules: [
          {
            domain: 'company.local',
            name: 'on-prem-dns-rule',
            targets: [
              { ip: '192.168.1.53', port: 53 },
              { ip: '192.168.1.54', port: 53 },
            ],
          },
          { domain: 'lab.company.local', targets: [{ ip: '192.168.1.53', port: 53 }], vpcs: [VPC_ID, OTHER_VPC] },
        ],
      },
      inbound: { endpointId: INBOUND_ID },
    },
    efs: {
      fileSystemId: FS_ID,
      securityGroupId: SG_ID,
      createMissingMountTargets: true,
      podsNatted: false,
      mountOptions: DEFAULT_MOUNT_OPTIONS,
      extraCidrs: [],
    },
  };
}

const throttled = () =>
  new Route53ResolverServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: {},
    message: 'Rate exceeded',
  });

beforeEach(() => {
  resolverMock.reset();
  ec2Mock.reset();
  efsMock.reset();
  eksMock.reset();
});

describe('inboundEndpointFindings', () => {
  const inboundEndpoint = (overrides: Partial<ResolverEndpoint> = {}): ResolverEndpoint => ({
    Id: INBOUND_ID,
    Direction: 'INBOUND',
    Status: 'OPERATIONAL',
    StatusMessage: 'This Resolver Endpoint is operational.',
    HostVPCId: VPC_ID,
    IpAddressCount: 2,
    ...overrides,
  });

  /**
   * Endpoint IPs on two pages, in the given subnets, ATTACHED unless a status is given; the
   * subnets' AZs as DescribeSubnets tells them.
   */
  function seedEndpoint(
    endpoint: ResolverEndpoint,
    ips: Array<[string, string] | [string, string, IpAddressStatus]>,
    azs: Record<string, string>,
  ) {
    resolverMock.on(r53(GetResolverEndpointCommand)).resolves({ ResolverEndpoint: endpoint });
    const seen: ListResolverEndpointIpAddressesRequest[] = [];
    resolverMock
      .on(r53(ListResolverEndpointIpAddressesCommand))
      .callsFake((input: ListResolverEndpointIpAddressesRequest) => {
        seen.push(structuredClone(input));
        const page = input.NextToken === undefined ? ips.slice(0, 1) : ips.slice(1);
        return {
          ...(input.NextToken === undefined ? { NextToken: 'ips-2' } : {}),
          IpAddresses: page.map(([ip, subnetId, status = IpAddressStatus.Attached]) => ({
            Ip: ip,
            SubnetId: subnetId,
            Status: status,
          })),
        };
      });
    ec2Mock.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds?: string[] }) => ({
      Subnets: (input.SubnetIds ?? []).map((id) => ({ SubnetId: id, AvailabilityZone: azs[id] })),
    }));
    return seen;
  }
  const finding = (message: string, fix: string) => ({
    cluster: CLUSTER,
    severity: 'critical',
    resource: INBOUND_ID,
    message,
    fix,
  });
  const AZS = { [SUBNET_A]: 'ap-northeast-2a', [SUBNET_A2]: 'ap-northeast-2a', [SUBNET_B]: 'ap-northeast-2b' };

  it('finds nothing wrong with an OPERATIONAL INBOUND endpoint with IPs in two AZs', async () => {
    const ipRequests = seedEndpoint(
      inboundEndpoint(),
      [
        ['10.0.1.10', SUBNET_A],
        ['10.0.1.11', SUBNET_A],
        ['10.0.2.10', SUBNET_B],
      ],
      AZS,
    );

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([]);
    expect(resolverMock.commandCalls(r53(GetResolverEndpointCommand)).map((c) => c.args[0].input)).toEqual([
      { ResolverEndpointId: INBOUND_ID },
    ]);
    expect(ipRequests).toEqual([
      { ResolverEndpointId: INBOUND_ID },
      { ResolverEndpointId: INBOUND_ID, NextToken: 'ips-2' },
    ]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input)).toEqual([
      { SubnetIds: [SUBNET_A, SUBNET_B] },
    ]);
  });

  it('reports IPs in one AZ only, even in two subnets', async () => {
    seedEndpoint(
      inboundEndpoint(),
      [
        ['10.0.1.10', SUBNET_A],
        ['10.0.3.10', SUBNET_A2],
      ],
      AZS,
    );

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([
      finding(
        `Inbound endpoint ${INBOUND_ID} has IPs (10.0.1.10, 10.0.3.10) in 1 AZ(s); it needs at least two to survive an AZ outage.`,
        'Add an IP address in a subnet of a second AZ.',
      ),
    ]);
  });

  it('reports two AZs of which one has only a CREATING address, naming the address and its status', async () => {
    seedEndpoint(
      inboundEndpoint(),
      [
        ['10.0.1.10', SUBNET_A],
        ['10.0.2.10', SUBNET_B, IpAddressStatus.Creating],
      ],
      AZS,
    );

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([
      finding(
        `Inbound endpoint ${INBOUND_ID} has IPs (10.0.1.10) in 1 AZ(s); it needs at least two to survive an AZ outage. Not serving (only ATTACHED addresses answer): 10.0.2.10 (${SUBNET_B}) is CREATING.`,
        'Wait for those addresses to become ATTACHED, or replace a failed one; make sure the ATTACHED ones cover two AZs.',
      ),
    ]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input)).toEqual([
      { SubnetIds: [SUBNET_A] },
    ]);
  });

  it.each(Object.values(IpAddressStatus).filter((status) => status !== IpAddressStatus.Attached))(
    'does not count a %s address toward two AZs',
    async (status) => {
      seedEndpoint(
        inboundEndpoint(),
        [
          ['10.0.1.10', SUBNET_A],
          ['10.0.2.10', SUBNET_B, status],
        ],
        AZS,
      );

      const findings = await inboundEndpointFindings(clients(), clusterState());

      expect(findings.map((f) => f.message)).toEqual([
        expect.stringContaining(`10.0.2.10 (${SUBNET_B}) is ${status}.`),
      ]);
    },
  );

  it('reports an endpoint that is not OPERATIONAL', async () => {
    seedEndpoint(
      inboundEndpoint({ Status: 'ACTION_NEEDED', StatusMessage: 'An IP address could not be created.' }),
      [
        ['10.0.1.10', SUBNET_A],
        ['10.0.2.10', SUBNET_B],
      ],
      AZS,
    );

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([
      finding(
        `Inbound endpoint ${INBOUND_ID} is ACTION_NEEDED, not OPERATIONAL: on-prem cannot resolve AWS names through it.`,
        'Check it in the Route 53 Resolver console; status message: An IP address could not be created..',
      ),
    ]);
  });

  it('reports an OUTBOUND endpoint declared as the inbound one', async () => {
    seedEndpoint(
      inboundEndpoint({ Direction: 'OUTBOUND' }),
      [
        ['10.0.1.10', SUBNET_A],
        ['10.0.2.10', SUBNET_B],
      ],
      AZS,
    );

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([
      finding(
        `Endpoint ${INBOUND_ID} is OUTBOUND, not INBOUND.`,
        'Point dns.inbound.endpointId at the INBOUND endpoint.',
      ),
    ]);
  });

  it('reports an endpoint that does not exist, and reads nothing more', async () => {
    resolverMock
      .on(r53(GetResolverEndpointCommand))
      .rejects(new ResourceNotFoundException({ $metadata: {}, message: `[RSLVR-00101] ${INBOUND_ID} not found` }));

    await expect(inboundEndpointFindings(clients(), clusterState())).resolves.toEqual([
      finding(
        `Inbound endpoint ${INBOUND_ID} does not exist.`,
        'Create it (two subnets in two AZs) or fix dns.inbound.endpointId.',
      ),
    ]);
    expect(resolverMock).not.toHaveReceivedCommand(r53(ListResolverEndpointIpAddressesCommand));
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSubnetsCommand);
  });

  it('lets any other error through rather than report a guess', async () => {
    resolverMock.on(r53(GetResolverEndpointCommand)).rejects(throttled());

    await expect(inboundEndpointFindings(clients(), clusterState())).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  it('reads nothing when no inbound endpoint is declared', async () => {
    const cluster = clusterState();
    delete cluster.dns?.inbound;

    await expect(inboundEndpointFindings(clients(), cluster)).resolves.toEqual([]);
    expect(resolverMock.calls()).toHaveLength(0);
  });
});

describe('planCluster', () => {
  /**
   * The seed's drift, as AWS would answer: company.local forwards to a wrong IP, lab.company.local
   * is missing its association with the second VPC, a rule another team made by hand, no mount
   * target in ap-northeast-2b, and NFS open to 0.0.0.0/0.
   */
  function seedDriftedEstate() {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: eksCluster() });
    ec2Mock.on(DescribeVpcsCommand).resolves(seedVpcs());
    ec2Mock.on(DescribeSubnetsCommand).resolves({
      Subnets: [
        { SubnetId: SUBNET_A, AvailabilityZone: 'ap-northeast-2a', VpcId: VPC_ID },
        { SubnetId: SUBNET_B, AvailabilityZone: 'ap-northeast-2b', VpcId: VPC_ID },
      ],
    });

    resolverMock.on(r53(ListResolverRulesCommand)).resolves({
      ResolverRules: [
        {
          Id: RULE_COMPANY,
          Arn: ruleArn(RULE_COMPANY),
          Name: 'on-prem-dns-rule',
          DomainName: 'company.local.',
          RuleType: 'FORWARD',
          ResolverEndpointId: OUTBOUND_ID,
          TargetIps: [
            { Ip: '192.168.1.53', Port: 53 },
            { Ip: '192.168.1.99', Port: 53 },
          ],
          CreatorRequestId: 'hybridops-0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c',
        },
        {
          Id: RULE_LAB,
          Arn: ruleArn(RULE_LAB),
          DomainName: 'lab.company.local.',
          RuleType: 'FORWARD',
          ResolverEndpointId: OUTBOUND_ID,
          TargetIps: [{ Ip: '192.168.1.53', Port: 53 }],
          CreatorRequestId: 'hybridops-1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a',
        },
        {
          Id: RULE_OTHER_TEAM,
          Arn: ruleArn(RULE_OTHER_TEAM),
          Name: 'other-team',
          DomainName: 'other-team.local.',
          RuleType: 'FORWARD',
          ResolverEndpointId: OUTBOUND_ID,
          TargetIps: [{ Ip: '172.16.0.53', Port: 53 }],
          CreatorRequestId: 'console-2025-03-04',
        },
      ],
    });
    resolverMock.on(r53(ListResolverRuleAssociationsCommand)).resolves({
      ResolverRuleAssociations: [
        { Id: 'rslvr-rrassoc-01', ResolverRuleId: RULE_COMPANY, VPCId: VPC_ID, Status: 'COMPLETE' },
        { Id: 'rslvr-rrassoc-02', ResolverRuleId: RULE_LAB, VPCId: VPC_ID, Status: 'COMPLETE' },
        { Id: 'rslvr-rrassoc-03', ResolverRuleId: RULE_OTHER_TEAM, VPCId: VPC_ID, Status: 'COMPLETE' },
      ],
    });
    resolverMock
      .on(r53(ListTagsForResourceCommand))
      .resolves({ Tags: [{ Key: 'hybridops:managed-by', Value: CLUSTER_OWNER }] });
    resolverMock.on(r53(GetResolverEndpointCommand)).resolves({
      ResolverEndpoint: { Id: INBOUND_ID, Direction: 'INBOUND', Status: 'OPERATIONAL', HostVPCId: VPC_ID },
    });
    resolverMock.on(r53(ListResolverEndpointIpAddressesCommand)).resolves({
      IpAddresses: [
        { Ip: '10.0.1.10', SubnetId: SUBNET_A, Status: 'ATTACHED' },
        { Ip: '10.0.2.10', SubnetId: SUBNET_B, Status: 'ATTACHED' },
      ],
    });

    efsMock.on(DescribeFileSystemsCommand).resolves({
      FileSystems: [
        {
          OwnerId: ACCOUNT,
          CreationToken: 'hybrid-shared',
          FileSystemId: FS_ID,
          CreationTime: new Date('2026-01-01T00:00:00Z'),
          LifeCycleState: 'available',
          NumberOfMountTargets: 1,
          SizeInBytes: { Value: 6144 },
          PerformanceMode: 'generalPurpose',
          Encrypted: true,
          Tags: [],
        },
      ],
    });
    efsMock.on(DescribeMountTargetsCommand).resolves({
      MountTargets: [
        {
          MountTargetId: 'fsmt-0aaaaaaaaaaaaaaaa',
          FileSystemId: FS_ID,
          SubnetId: SUBNET_A,
          AvailabilityZoneName: 'ap-northeast-2a',
          LifeCycleState: 'available',
          IpAddress: '10.0.1.25',
        },
      ],
    });
    const nfs = (id: string, cidr: string) => ({
      SecurityGroupRuleId: id,
      GroupId: SG_ID,
      IsEgress: false,
      IpProtocol: 'tcp',
      FromPort: 2049,
      ToPort: 2049,
      CidrIpv4: cidr,
    });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        nfs('sgr-0vpc0000000000001', '10.0.0.0/16'),
        nfs('sgr-0nodes00000000001', '192.168.0.0/16'),
        nfs('sgr-0pods000000000001', '10.244.0.0/16'),
        nfs('sgr-0wide000000000001', '0.0.0.0/0'),
        {
          SecurityGroupRuleId: 'sgr-0egress0000000001',
          GroupId: SG_ID,
          IsEgress: true,
          IpProtocol: '-1',
          CidrIpv4: '0.0.0.0/0',
        },
      ],
    });
  }

  it('plans one action per drifted resource and nothing for the rest', async () => {
    seedDriftedEstate();

    const plan = await planCluster(clients(), CTX, clusterState());

    expect(plan.actions.map((a) => [a.type, a.resource])).toEqual([
      ['update-rule', RULE_COMPANY],
      ['associate-rule', `lab.company.local@${OTHER_VPC}`],
      ['create-mount-target', `${FS_ID}@ap-northeast-2b`],
      ['revoke-nfs', `${SG_ID}/sgr-0wide000000000001`],
    ]);
    expect(plan.actions.map((a) => a.params)).toEqual([
      {
        ruleId: RULE_COMPANY,
        endpointId: OUTBOUND_ID,
        targets: [
          { Ip: '192.168.1.53', Port: 53 },
          { Ip: '192.168.1.54', Port: 53 },
        ],
      },
      { vpcId: OTHER_VPC, ruleId: RULE_LAB },
      { fileSystemId: FS_ID, subnetId: SUBNET_B, securityGroupId: SG_ID, availabilityZone: 'ap-northeast-2b' },
      { groupId: SG_ID, ruleId: 'sgr-0wide000000000001', cidr: '0.0.0.0/0' },
    ]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.findings).toEqual([]);
  });

  it('reads the tags of its own rules only and changes nothing while planning', async () => {
    seedDriftedEstate();

    await planCluster(clients(), CTX, clusterState());

    expect(eksMock.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input)).toEqual([{ name: CLUSTER }]);
    expect(resolverMock.commandCalls(r53(ListTagsForResourceCommand)).map((c) => c.args[0].input)).toEqual([
      { ResourceArn: ruleArn(RULE_COMPANY) },
      { ResourceArn: ruleArn(RULE_LAB) },
    ]);
    // Only reads: the names of every command each client was sent.
    const sent = (mock: { calls(): Array<{ args: unknown[] }> }) =>
      [...new Set(mock.calls().map((c) => (c.args[0] as object).constructor.name))].sort();
    expect(sent(eksMock)).toEqual(['DescribeClusterCommand']);
    expect(sent(ec2Mock)).toEqual([
      'DescribeSecurityGroupRulesCommand',
      'DescribeSubnetsCommand',
      'DescribeVpcsCommand',
    ]);
    expect(sent(efsMock)).toEqual(['DescribeFileSystemsCommand', 'DescribeMountTargetsCommand']);
    expect(sent(resolverMock)).toEqual([
      'GetResolverEndpointCommand',
      'ListResolverEndpointIpAddressesCommand',
      'ListResolverRuleAssociationsCommand',
      'ListResolverRulesCommand',
      'ListTagsForResourceCommand',
    ]);
  });

  it('treats rules tagged for the stage, not this cluster, as someone else’s', async () => {
    seedDriftedEstate();
    resolverMock
      .on(r53(ListTagsForResourceCommand))
      .resolves({ Tags: [{ Key: 'hybridops:managed-by', Value: CTX.owner }] });

    const plan = await planCluster(clients(), CTX, clusterState());

    // Reported, not touched, and no second rule for the same domain beside them.
    expect(plan.conflicts.map((c) => c.resource)).toEqual([RULE_COMPANY, RULE_LAB]);
    expect(plan.actions.map((a) => a.type)).toEqual(['create-mount-target', 'revoke-nfs']);
  });
});
