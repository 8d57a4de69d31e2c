import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  type DescribeSecurityGroupRulesRequest,
  DescribeSubnetsCommand,
  type DescribeSubnetsRequest,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  type DescribeMountTargetsRequest,
  EFSClient,
  type FileSystemDescription,
  type MountTargetDescription,
  MountTargetConflict,
  SubnetNotFound,
} from '@aws-sdk/client-efs';
import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { type ClusterDesiredState, DEFAULT_MOUNT_OPTIONS } from '#lib/desired-state/schema';
import type { ObservedMountTarget } from '#lib/efs/nfs';
import { observeEfs } from '#lib/efs/observe';
import {
  applyEfsAction,
  type MountTargetDirectory,
  mountTargetDirectory,
  writeMountTargetDirectory,
} from '#lib/network/efs-aws';
import type { Action } from '#lib/network/plan';
import { ACCOUNT, CLUSTER, clusterFacts, REGION, VPC_ID } from '#test/helpers/onboarding-fixtures';

const efsMock = mockClient(EFSClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);

const FS_ID = 'fs-0a1b2c3d4e5f60718';
const SG_ID = 'sg-0e5f0a1b2c3d40718';
const SUBNET_A = 'subnet-0aa1a1a1a1a1a1a1a';
const SUBNET_B = 'subnet-0bb2b2b2b2b2b2b2b';
const OWNER = 'eks-hybrid-ops/test';
const PARAMETER = `/eks-hybrid-ops/test/efs/${CLUSTER}/mount-targets`;

const clients = () => {
  const aws = createAllAwsClients({ region: REGION });
  return { efs: aws.efs, ec2: aws.ec2 };
};

const efsConfig = (): NonNullable<ClusterDesiredState['efs']> => ({
  fileSystemId: FS_ID,
  securityGroupId: SG_ID,
  createMissingMountTargets: true,
  podsNatted: false,
  mountOptions: DEFAULT_MOUNT_OPTIONS,
  extraCidrs: [],
});

function fileSystem(overrides: Partial<FileSystemDescription> = {}): FileSystemDescription {
  return {
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
    ...overrides,
  };
}

function mountTarget(id: string, subnetId: string, az: string, ip?: string): MountTargetDescription {
  return {
    MountTargetId: id,
    FileSystemId: FS_ID,
    SubnetId: subnetId,
    LifeCycleState: 'available',
    IpAddress: ip,
    AvailabilityZoneName: az,
    VpcId: VPC_ID,
  };
}

/** The paginators reuse one request object across pages, so each request is copied as it is sent. */
function recorded<T extends object>(pages: (input: T) => object) {
  const seen: T[] = [];
  return { seen, fake: (input: T) => (seen.push(structuredClone(input)), pages(input)) };
}

const ec2Error = (name: string, message: string) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message });

beforeEach(() => {
  efsMock.reset();
  ec2Mock.reset();
  ssmMock.reset();
});

describe('observeEfs', () => {
  function seedAws(fs: FileSystemDescription) {
    efsMock.on(DescribeFileSystemsCommand).resolves({ FileSystems: [fs] });
    const mountTargets = recorded<DescribeMountTargetsRequest>((input) =>
      input.Marker === undefined
        ? {
            NextMarker: 'mt-page-2',
            MountTargets: [mountTarget('fsmt-0aaaaaaaaaaaaaaaa', SUBNET_A, 'ap-northeast-2a', '10.0.1.25')],
          }
        : {
            MountTargets: [
              { ...mountTarget('fsmt-0bbbbbbbbbbbbbbbb', SUBNET_B, 'ap-northeast-2b'), LifeCycleState: 'creating' },
              // No AZ: not a mount target this reconciler can place.
              {
                ...mountTarget('fsmt-0cccccccccccccccc', SUBNET_B, 'ap-northeast-2b'),
                AvailabilityZoneName: undefined,
              },
            ],
          },
    );
    efsMock.on(DescribeMountTargetsCommand).callsFake(mountTargets.fake);
    // EC2 may page even an answer by ids: each NextToken is followed.
    const subnets = recorded<DescribeSubnetsRequest>((input) =>
      input.NextToken === undefined
        ? {
            NextToken: 'subnets-2',
            Subnets: [{ SubnetId: SUBNET_A, AvailabilityZone: 'ap-northeast-2a', VpcId: VPC_ID }],
          }
        : { Subnets: [{ SubnetId: SUBNET_B, AvailabilityZone: 'ap-northeast-2b', VpcId: VPC_ID }] },
    );
    ec2Mock.on(DescribeSubnetsCommand).callsFake(subnets.fake);
    const sgRules = recorded<DescribeSecurityGroupRulesRequest>((input) =>
      input.NextToken === undefined
        ? {
            NextToken: 'sgr-page-2',
            SecurityGroupRules: [
              {
                SecurityGroupRuleId: 'sgr-0node000000000001',
                GroupId: SG_ID,
                IsEgress: false,
                IpProtocol: 'tcp',
                FromPort: 2049,
                ToPort: 2049,
                CidrIpv4: '192.168.0.0/16',
              },
              {
                SecurityGroupRuleId: 'sgr-0egress0000000001',
                GroupId: SG_ID,
                IsEgress: true,
                IpProtocol: '-1',
                FromPort: -1,
                ToPort: -1,
                CidrIpv4: '0.0.0.0/0',
              },
            ],
          }
        : {
            SecurityGroupRules: [
              {
                SecurityGroupRuleId: 'sgr-0wide6000000000001',
                GroupId: SG_ID,
                IsEgress: false,
                IpProtocol: 'tcp',
                FromPort: 2049,
                ToPort: 2049,
                CidrIpv6: '::/0',
              },
              { GroupId: SG_ID, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.0.0.0/8' },
            ],
          },
    );
    ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake(sgRules.fake);
    return { mountTargetRequests: mountTargets.seen, subnetRequests: subnets.seen, sgRuleRequests: sgRules.seen };
  }

  it('reads the file system, its mount targets, the cluster subnets and the group rules, page by page', async () => {
    const { mountTargetRequests, subnetRequests, sgRuleRequests } = seedAws(fileSystem());

    await observeEfs(clients(), { efs: efsConfig(), cluster: clusterFacts() });

    expect(efsMock.commandCalls(DescribeFileSystemsCommand).map((c) => c.args[0].input)).toEqual([
      { FileSystemId: FS_ID },
    ]);
    // No MaxItems: EFS ignores it and pages by 10; the markers are followed.
    expect(mountTargetRequests).toEqual([{ FileSystemId: FS_ID }, { FileSystemId: FS_ID, Marker: 'mt-page-2' }]);
    expect(subnetRequests).toEqual([
      { SubnetIds: [SUBNET_A, SUBNET_B] },
      { SubnetIds: [SUBNET_A, SUBNET_B], NextToken: 'subnets-2' },
    ]);
    expect(sgRuleRequests).toEqual([
      { Filters: [{ Name: 'group-id', Values: [SG_ID] }], MaxResults: 1000 },
      { Filters: [{ Name: 'group-id', Values: [SG_ID] }], MaxResults: 1000, NextToken: 'sgr-page-2' },
    ]);
  });

  it('maps what it read into the observation the planner takes', async () => {
    seedAws(fileSystem({ AvailabilityZoneName: 'ap-northeast-2a', Encrypted: true, LifeCycleState: 'available' }));

    const observed = await observeEfs(clients(), { efs: efsConfig(), cluster: clusterFacts() });

    expect(observed).toEqual({
      fileSystem: { id: FS_ID, encrypted: true, lifeCycleState: 'available', oneZone: 'ap-northeast-2a' },
      mountTargets: [
        {
          id: 'fsmt-0aaaaaaaaaaaaaaaa',
          availabilityZone: 'ap-northeast-2a',
          subnetId: SUBNET_A,
          ipAddress: '10.0.1.25',
          lifeCycleState: 'available',
        },
        {
          id: 'fsmt-0bbbbbbbbbbbbbbbb',
          availabilityZone: 'ap-northeast-2b',
          subnetId: SUBNET_B,
          ipAddress: undefined,
          lifeCycleState: 'creating',
        },
      ],
      clusterSubnets: [
        { id: SUBNET_A, availabilityZone: 'ap-northeast-2a' },
        { id: SUBNET_B, availabilityZone: 'ap-northeast-2b' },
      ],
      securityGroupRules: [
        {
          id: 'sgr-0node000000000001',
          isEgress: false,
          protocol: 'tcp',
          fromPort: 2049,
          toPort: 2049,
          cidr: '192.168.0.0/16',
        },
        { id: 'sgr-0egress0000000001', isEgress: true, protocol: '-1', fromPort: -1, toPort: -1, cidr: '0.0.0.0/0' },
        // An IPv6 source is a source: ::/0 must be visible to the planner to be revoked.
        { id: 'sgr-0wide6000000000001', isEgress: false, protocol: 'tcp', fromPort: 2049, toPort: 2049, cidr: '::/0' },
      ],
      vpcCidrs: ['10.0.0.0/16'],
      remoteNodeCidrs: ['192.168.0.0/16'],
      remotePodCidrs: ['10.244.0.0/16'],
    });
  });

  it('reads a Regional, unencrypted file system as such', async () => {
    seedAws(fileSystem({ Encrypted: false }));

    const observed = await observeEfs(clients(), { efs: efsConfig(), cluster: clusterFacts() });

    expect(observed.fileSystem).toEqual({ id: FS_ID, encrypted: false, lifeCycleState: 'available' });
    expect(observed.fileSystem.oneZone).toBeUndefined();
  });

  it('asks for no subnets when the cluster has none', async () => {
    seedAws(fileSystem());

    const observed = await observeEfs(clients(), { efs: efsConfig(), cluster: clusterFacts({ subnetIds: [] }) });

    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSubnetsCommand);
    expect(observed.clusterSubnets).toEqual([]);
  });
});

describe('applyEfsAction', () => {
  const action = (type: Action['type'], params: Action['params'], resource: string): Action => ({
    type,
    resource,
    cluster: CLUSTER,
    detail: `${type} ${resource}`,
    params,
  });
  const createMountTarget = () =>
    action(
      'create-mount-target',
      { fileSystemId: FS_ID, subnetId: SUBNET_B, securityGroupId: SG_ID, availabilityZone: 'ap-northeast-2b' },
      `${FS_ID}@ap-northeast-2b`,
    );
  const authorize = () => action('authorize-nfs', { groupId: SG_ID, cidr: '10.244.0.0/16' }, `${SG_ID}/10.244.0.0/16`);
  const revoke = () =>
    action('revoke-nfs', { groupId: SG_ID, ruleId: 'sgr-0wide000000000001', cidr: '0.0.0.0/0' }, `${SG_ID}/sgr`);

  describe('create-mount-target', () => {
    it('creates it in the planned subnet with the mount-target security group', async () => {
      efsMock.on(CreateMountTargetCommand).resolves({ MountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb' });

      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).resolves.toBe('done');
      expect(efsMock.commandCalls(CreateMountTargetCommand).map((c) => c.args[0].input)).toEqual([
        { FileSystemId: FS_ID, SubnetId: SUBNET_B, SecurityGroups: [SG_ID] },
      ]);
    });

    it('waits while the new mount target is creating (EFS answers before it is available)', async () => {
      efsMock.on(CreateMountTargetCommand).resolves({ MountTargetId: 'fsmt-0b', LifeCycleState: 'creating' });

      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).resolves.toBe(
        'waiting: the mount target in ap-northeast-2b is creating',
      );
    });

    it('takes MountTargetConflict as a mount target that already exists in that AZ, waiting while it is creating', async () => {
      efsMock.on(CreateMountTargetCommand).rejects(
        new MountTargetConflict({
          $metadata: {},
          ErrorCode: 'MountTargetConflict',
          message: 'mount target already exists in this AZ',
        }),
      );

      efsMock.on(DescribeMountTargetsCommand).resolves({
        MountTargets: [
          {
            MountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb',
            FileSystemId: FS_ID,
            SubnetId: SUBNET_B,
            AvailabilityZoneName: 'ap-northeast-2b',
            LifeCycleState: 'creating',
          },
        ],
      });

      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).resolves.toBe(
        'waiting: the mount target in ap-northeast-2b is creating',
      );
      efsMock.on(DescribeMountTargetsCommand).resolves({
        MountTargets: [
          {
            MountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb',
            FileSystemId: FS_ID,
            SubnetId: SUBNET_B,
            AvailabilityZoneName: 'ap-northeast-2b',
            LifeCycleState: 'available',
          },
        ],
      });
      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).resolves.toBe('already-done');
    });

    it('passes MountTargetConflict on when no mount target is in that AZ (a subnet in another VPC)', async () => {
      efsMock.on(CreateMountTargetCommand).rejects(
        new MountTargetConflict({
          $metadata: {},
          ErrorCode: 'MountTargetConflict',
          message: 'mount targets must be in one VPC',
        }),
      );
      efsMock.on(DescribeMountTargetsCommand).resolves({ MountTargets: [] });

      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).rejects.toBeInstanceOf(MountTargetConflict);
    });

    it('rethrows anything else', async () => {
      const missing = new SubnetNotFound({ $metadata: {}, ErrorCode: 'SubnetNotFound', message: 'no such subnet' });
      efsMock.on(CreateMountTargetCommand).rejects(missing);

      await expect(applyEfsAction(clients(), createMountTarget(), OWNER)).rejects.toBe(missing);
    });
  });

  describe('authorize-nfs', () => {
    it('allows TCP 2049 from the CIDR and tags the rule as managed', async () => {
      ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });

      await expect(applyEfsAction(clients(), authorize(), OWNER)).resolves.toBe('done');
      expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
        {
          GroupId: SG_ID,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 2049,
              ToPort: 2049,
              IpRanges: [{ CidrIp: '10.244.0.0/16', Description: 'NFS to EFS for EKS hybrid nodes (eks-hybrid-ops)' }],
            },
          ],
          TagSpecifications: [
            { ResourceType: 'security-group-rule', Tags: [{ Key: 'hybridops:managed-by', Value: OWNER }] },
          ],
        },
      ]);
    });

    it('takes InvalidPermission.Duplicate as already allowed', async () => {
      ec2Mock
        .on(AuthorizeSecurityGroupIngressCommand)
        .rejects(ec2Error('InvalidPermission.Duplicate', 'the specified rule already exists'));

      await expect(applyEfsAction(clients(), authorize(), OWNER)).resolves.toBe('already-done');
    });

    it('rethrows a rules-per-group limit', async () => {
      ec2Mock
        .on(AuthorizeSecurityGroupIngressCommand)
        .rejects(ec2Error('RulesPerSecurityGroupLimitExceeded', 'too many rules'));

      await expect(applyEfsAction(clients(), authorize(), OWNER)).rejects.toMatchObject({
        name: 'RulesPerSecurityGroupLimitExceeded',
      });
    });
  });

  describe('revoke-nfs', () => {
    it('revokes the rule by its id', async () => {
      ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

      await expect(applyEfsAction(clients(), revoke(), OWNER)).resolves.toBe('done');
      expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
        { GroupId: SG_ID, SecurityGroupRuleIds: ['sgr-0wide000000000001'] },
      ]);
    });

    it('takes InvalidSecurityGroupRuleId.NotFound as already revoked', async () => {
      ec2Mock
        .on(RevokeSecurityGroupIngressCommand)
        .rejects(ec2Error('InvalidSecurityGroupRuleId.NotFound', 'the rule does not exist'));

      await expect(applyEfsAction(clients(), revoke(), OWNER)).resolves.toBe('already-done');
    });

    it('rethrows a missing group', async () => {
      ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error('InvalidGroup.NotFound', 'no such group'));

      await expect(applyEfsAction(clients(), revoke(), OWNER)).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    });
  });

  it('refuses a Resolver action', async () => {
    const rule = action('delete-rule', { ruleId: 'rslvr-rr-0a1b2c3d4e5f60718' }, 'rslvr-rr-0a1b2c3d4e5f60718');

    await expect(applyEfsAction(clients(), rule, OWNER)).rejects.toThrow('not an EFS action: delete-rule');
    expect(efsMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});

describe('writeMountTargetDirectory', () => {
  const directory = (ip = '10.0.1.25'): MountTargetDirectory => ({
    fileSystemId: FS_ID,
    mountOptions: DEFAULT_MOUNT_OPTIONS,
    mountTargets: [
      { availabilityZone: 'ap-northeast-2a', ipAddress: ip, mountTargetId: 'fsmt-0aaaaaaaaaaaaaaaa' },
      { availabilityZone: 'ap-northeast-2b', ipAddress: '10.0.2.25', mountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb' },
    ],
  });
  const ssm = () => createAllAwsClients({ region: REGION }).ssm;
  const expectPut = () => {
    const puts = ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      {
        Name: PARAMETER,
        Type: 'String',
        Value: expect.any(String),
        Overwrite: true,
        Description: `EFS ${FS_ID} mount targets for on-prem NFS clients (eks-hybrid-ops)`,
      },
    ]);
    expect(JSON.parse(puts[0]?.Value ?? 'null')).toEqual({
      fileSystemId: FS_ID,
      mountOptions: 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2',
      mountTargets: [
        { availabilityZone: 'ap-northeast-2a', ipAddress: '10.0.1.25', mountTargetId: 'fsmt-0aaaaaaaaaaaaaaaa' },
        { availabilityZone: 'ap-northeast-2b', ipAddress: '10.0.2.25', mountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb' },
      ],
    });
  };

  it('writes the directory when the parameter does not exist yet', async () => {
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'not found' }));
    ssmMock.on(PutParameterCommand).resolves({ Version: 1 });

    await expect(writeMountTargetDirectory(ssm(), PARAMETER, directory())).resolves.toBe('published');
    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    expectPut();
  });

  it('overwrites it when a mount target IP changed', async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Name: PARAMETER, Value: JSON.stringify(directory('10.0.1.99')) } });
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });

    await expect(writeMountTargetDirectory(ssm(), PARAMETER, directory())).resolves.toBe('published');
    expectPut();
  });

  it('makes no write when nothing changed', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: JSON.stringify(directory()) } });

    await expect(writeMountTargetDirectory(ssm(), PARAMETER, directory())).resolves.toBe('unchanged');
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('does not write over a parameter it could not read', async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejects(
        new SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }),
      );

    await expect(writeMountTargetDirectory(ssm(), PARAMETER, directory())).rejects.toThrow('denied');
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('mountTargetDirectory', () => {
  it('lists the available mount targets that have an IP, sorted by AZ', () => {
    const targets: ObservedMountTarget[] = [
      {
        id: 'fsmt-0ccc',
        availabilityZone: 'ap-northeast-2c',
        subnetId: 'subnet-c',
        ipAddress: '10.0.3.25',
        lifeCycleState: 'available',
      },
      {
        id: 'fsmt-0aaa',
        availabilityZone: 'ap-northeast-2a',
        subnetId: 'subnet-a',
        ipAddress: '10.0.1.25',
        lifeCycleState: 'available',
      },
      { id: 'fsmt-0bbb', availabilityZone: 'ap-northeast-2b', subnetId: 'subnet-b', lifeCycleState: 'creating' },
      { id: 'fsmt-0ddd', availabilityZone: 'ap-northeast-2d', subnetId: 'subnet-d', lifeCycleState: 'available' },
      {
        id: 'fsmt-0eee',
        availabilityZone: 'ap-northeast-2b',
        subnetId: 'subnet-b',
        ipAddress: '10.0.2.25',
        lifeCycleState: 'deleting',
      },
    ];

    expect(mountTargetDirectory({ ...efsConfig(), mountOptions: 'vers=4.1,hard' }, targets)).toEqual({
      fileSystemId: FS_ID,
      mountOptions: 'vers=4.1,hard',
      mountTargets: [
        { availabilityZone: 'ap-northeast-2a', ipAddress: '10.0.1.25', mountTargetId: 'fsmt-0aaa' },
        { availabilityZone: 'ap-northeast-2c', ipAddress: '10.0.3.25', mountTargetId: 'fsmt-0ccc' },
      ],
    });
  });
});
