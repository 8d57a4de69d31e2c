import { DescribeSecurityGroupRulesCommand, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import type { EstateSeed } from '#lib/sandbox/seed';

/**
 * The sandbox's EC2 describe calls page as EC2 does: everything in one answer without MaxResults;
 * with it, pages of the whole list filtered one by one; and a MaxResults or filter name outside the
 * EC2 service model refused with InvalidParameterValue.
 */

const GROUP = 'sg-0e5f0a1b2c3d40718';
const OTHER_GROUP = 'sg-0fff0000000000001';

/** The seed's three rules of GROUP, then `n` rules of another group, then one more of GROUP. */
function seedWithRules(n: number): EstateSeed {
  const s = loadSeed(DEFAULT_SEED);
  const rules = s.network.securityGroupRules;
  for (let i = 0; i < n; i += 1) {
    rules.push({ ...rules[0]!, id: `sgr-0other${String(i).padStart(10, '0')}`, groupId: OTHER_GROUP });
  }
  rules.push({ ...rules[0]!, id: 'sgr-0last0000000000l1', cidr: '192.168.0.0/16' });
  return s;
}
const open = (s: EstateSeed = loadSeed(DEFAULT_SEED)) => withServices(SandboxEstate.inMemory(s));
const byGroup = [{ Name: 'group-id', Values: [GROUP] }];

describe('sandbox EC2 DescribeSecurityGroupRules pages', () => {
  it('answers every matching rule in one page without MaxResults, as the model says', async () => {
    const answer = await open(seedWithRules(6))
      .clients()
      .ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: byGroup }));

    expect(answer.SecurityGroupRules).toHaveLength(4);
    expect(answer.NextToken).toBeUndefined();
  });

  it('with MaxResults, filters each page: one may hold no match and still carry a NextToken', async () => {
    const ec2 = open(seedWithRules(8)).clients().ec2;

    const pages = [];
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: byGroup, MaxResults: 5, NextToken }),
      );
      pages.push(page.SecurityGroupRules?.map((r) => r.SecurityGroupRuleId));
      NextToken = page.NextToken;
    } while (NextToken);

    expect(pages).toEqual([
      ['sgr-0aaaa0000000000a1', 'sgr-0bbbb0000000000b2', 'sgr-0cccc0000000000c3'],
      [],
      ['sgr-0last0000000000l1'],
    ]);
  });

  it('filters by security-group-rule-id and by tag too', async () => {
    const s = loadSeed(DEFAULT_SEED);
    s.network.securityGroupRules[1]!.tags = [{ Key: 'owner', Value: 'net-team' }];
    const ec2 = open(s).clients().ec2;
    const ids = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters }))).SecurityGroupRules?.map(
        (r) => r.SecurityGroupRuleId,
      );

    expect(await ids([{ Name: 'security-group-rule-id', Values: ['sgr-0cccc0000000000c3'] }])).toEqual([
      'sgr-0cccc0000000000c3',
    ]);
    expect(await ids([{ Name: 'tag:owner', Values: ['net-team'] }])).toEqual(['sgr-0bbbb0000000000b2']);
  });

  it.each([
    [4, 'Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5.'],
    [1001, 'Value ( 1001 ) for parameter maxResults is invalid. Expecting a value less than 1000.'],
  ])('answers InvalidParameterValue to MaxResults %i, outside 5-1000', async (MaxResults, message) => {
    await expect(
      open()
        .clients()
        .ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: byGroup, MaxResults })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue', message });
  });

  it('answers InvalidParameterValue to a filter name EC2 does not know', async () => {
    await expect(
      open()
        .clients()
        .ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-name', Values: ['nfs'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue', message: "The filter 'group-name' is invalid" });
  });
});

describe('sandbox EC2 DescribeSubnets pages', () => {
  const SUBNETS = ['subnet-0aa1a1a1a1a1a1a1a', 'subnet-0bb2b2b2b2b2b2b2b'];

  it('pages by MaxResults when asked, every subnet in one answer when not', async () => {
    const s = loadSeed(DEFAULT_SEED);
    for (let i = 0; i < 5; i += 1) {
      s.subnets.push({
        id: `subnet-0c${String(i).padStart(15, '0')}`,
        vpcId: s.vpcs[0]!.id,
        availabilityZone: 'ap-northeast-2b',
      });
    }
    const ec2 = open(s).clients().ec2;

    const all = await ec2.send(new DescribeSubnetsCommand({}));
    const first = await ec2.send(new DescribeSubnetsCommand({ MaxResults: 5 }));
    const second = await ec2.send(new DescribeSubnetsCommand({ MaxResults: 5, NextToken: first.NextToken }));

    expect(all.Subnets).toHaveLength(7);
    expect(all.NextToken).toBeUndefined();
    expect(first.Subnets).toHaveLength(5);
    expect(second.Subnets?.map((x) => x.SubnetId)).toEqual(all.Subnets?.slice(5).map((x) => x.SubnetId));
    expect(second.NextToken).toBeUndefined();
  });

  it('answers InvalidParameterValue to MaxResults 1', async () => {
    await expect(
      open()
        .clients()
        .ec2.send(new DescribeSubnetsCommand({ SubnetIds: SUBNETS, MaxResults: 1 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('does not pretend to filter: a filter is SandboxNotImplementedError', async () => {
    await expect(
      open()
        .clients()
        .ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] })),
    ).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });
});
