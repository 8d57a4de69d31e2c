import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { AuthorizeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, PerformanceMode } from '@aws-sdk/client-efs';
import { CreateResolverRuleCommand, RuleTypeOption } from '@aws-sdk/client-route53resolver';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, SandboxEstate } from '#lib/sandbox/estate';
import { parseSeed } from '#lib/sandbox/seed';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';

/**
 * Where typing the sandbox's handlers with the SDK's own types changed what it answers or takes:
 * answers carry the members the SDK model requires, and seeds hold only values the model allows.
 */

const open = () => withServices(SandboxEstate.inMemory());

describe('sandbox answers and seeds held to the SDK model', () => {
  it("answers DescribeFileSystems with the members EFS's model requires", async () => {
    const estate = open();

    const answer = await estate
      .clients()
      .efs.send(new DescribeFileSystemsCommand({ FileSystemId: 'fs-0a1b2c3d4e5f60718' }));

    expect(answer.FileSystems?.[0]).toMatchObject({
      FileSystemId: 'fs-0a1b2c3d4e5f60718',
      OwnerId: estate.seed.account,
      CreationToken: 'fs-0a1b2c3d4e5f60718',
      SizeInBytes: { Value: 6144 },
      PerformanceMode: PerformanceMode.GENERAL_PURPOSE,
      Tags: [],
      LifeCycleState: 'available',
    });
  });

  it("refuses a seed cluster whose status EKS never reports (the model's ClusterStatus)", () => {
    const text = readFileSync(DEFAULT_SEED, 'utf8').replace(/^(\s+)status: ACTIVE$/m, '$1status: RUNNING');

    expect(() => parseSeed(text, 'estate.yaml')).toThrow(/: clusters\.0\.status: /);
  });

  it('says plainly that its S3 takes no streamed PutObject body', async () => {
    const estate = open();

    const attempt = estate.clients().s3.send(
      new PutObjectCommand({
        Bucket: sandboxStoreBucket(estate.seed.account),
        Key: 'k',
        Body: Readable.from(['{}']),
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });

  it('refuses an ingress rule without a protocol, as VPC security groups do', async () => {
    const estate = open();
    const groupId = estate.state.network.securityGroupRules[0]!.groupId;

    const attempt = estate.clients().ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ FromPort: 2049, ToPort: 2049, IpRanges: [{ CidrIp: '10.9.0.0/16' }] }],
      }),
    );

    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.",
    });
    expect(estate.state.network.securityGroupRules.filter((r) => r.cidr === '10.9.0.0/16')).toEqual([]);
  });

  it("refuses a seed Resolver endpoint whose status Resolver never reports (the model's ResolverEndpointStatus)", () => {
    const text = readFileSync(DEFAULT_SEED, 'utf8').replace(
      /^(\s+)direction: OUTBOUND$/m,
      '$1direction: OUTBOUND\n$1status: HEALTHY',
    );

    expect(() => parseSeed(text, 'estate.yaml')).toThrow(/: network\.resolverEndpoints\.0\.status: /);
  });

  it('says plainly that its Resolver forwards to IPv4 targets only', async () => {
    const estate = open();
    const before = estate.state.network.resolverRules.length;

    const attempt = estate.clients().resolver.send(
      new CreateResolverRuleCommand({
        CreatorRequestId: 'ipv6-target',
        RuleType: RuleTypeOption.Forward,
        DomainName: 'v6.company.local',
        ResolverEndpointId: 'rslvr-out-0a1b2c3d4e5f60718',
        TargetIps: [{ Ipv6: 'fd00::53' }],
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(SandboxNotImplementedError);
    expect(estate.state.network.resolverRules).toHaveLength(before);
  });
});
