import {
  InvalidNextTokenException,
  InvalidParameterException,
  ListResolverEndpointIpAddressesCommand,
  ListResolverRuleAssociationsCommand,
  type ListResolverRuleAssociationsRequest,
  ListResolverRulesCommand,
  type ListResolverRulesRequest,
  ValidationException,
} from '@aws-sdk/client-route53resolver';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';

/**
 * The sandbox's Resolver lists take the filter names, filter values and page sizes the Route 53
 * Resolver API reference documents, and refuse others as Resolver does.
 */

const open = () => withServices(SandboxEstate.inMemory());
const rules = async (input: ListResolverRulesRequest) =>
  (await open().clients().resolver.send(new ListResolverRulesCommand(input))).ResolverRules?.map((r) => r.Id);
const associations = async (input: ListResolverRuleAssociationsRequest) =>
  (await open().clients().resolver.send(new ListResolverRuleAssociationsCommand(input))).ResolverRuleAssociations?.map(
    (a) => a.ResolverRuleId,
  );
const COMPANY = 'rslvr-rr-0c0ffee0c0ffee001';
const CORP = 'rslvr-rr-0badc0de0badc0de1';
const LEGACY = 'rslvr-rr-0ther0ther0ther002';
const VPC = 'vpc-0a1b2c3d4e5f60718';

describe('sandbox Resolver ListResolverRules', () => {
  it('filters by every name the API reference lists, in either spelling', async () => {
    expect(await rules({ Filters: [{ Name: 'Name', Values: ['hand-made-corp-rule'] }] })).toEqual([CORP]);
    expect(await rules({ Filters: [{ Name: 'DOMAIN_NAME', Values: ['legacy.example.'] }] })).toEqual([LEGACY]);
    expect(await rules({ Filters: [{ Name: 'Status', Values: ['COMPLETE'] }] })).toEqual([COMPANY, CORP, LEGACY]);
    expect(
      await rules({
        Filters: [
          { Name: 'ResolverEndpointId', Values: ['rslvr-out-0a1b2c3d4e5f60718'] },
          { Name: 'CREATOR_REQUEST_ID', Values: ['hybridops-seeded-company-local'] },
        ],
      }),
    ).toEqual([COMPANY]);
  });

  it('pages by MaxResults with a NextToken', async () => {
    const resolver = open().clients().resolver;

    const first = await resolver.send(new ListResolverRulesCommand({ MaxResults: 2 }));
    const second = await resolver.send(new ListResolverRulesCommand({ MaxResults: 2, NextToken: first.NextToken }));

    expect(first.ResolverRules?.map((r) => r.Id)).toEqual([COMPANY, CORP]);
    expect(second.ResolverRules?.map((r) => r.Id)).toEqual([LEGACY]);
    expect(second.NextToken).toBeUndefined();
  });

  it.each([0, 101])('answers ValidationException to MaxResults %i, outside 1-100', async (MaxResults) => {
    await expect(rules({ MaxResults })).rejects.toBeInstanceOf(ValidationException);
  });

  it('answers InvalidParameterException to a filter name ListResolverRules does not take', async () => {
    await expect(rules({ Filters: [{ Name: 'RuleType', Values: ['FORWARD'] }] })).rejects.toThrow(
      'RuleType is not a valid filter name; valid: CreatorRequestId, DomainName, Name, ResolverEndpointId, Status, Type.',
    );
  });

  it('answers InvalidParameterException to a Type other than FORWARD or SYSTEM', async () => {
    await expect(rules({ Filters: [{ Name: 'Type', Values: ['Forward'] }] })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('answers InvalidNextTokenException to a token it never gave', async () => {
    await expect(rules({ NextToken: 'rules-page-2' })).rejects.toBeInstanceOf(InvalidNextTokenException);
  });
});

describe('sandbox Resolver ListResolverRuleAssociations', () => {
  it('takes the upper-case filter names Resolver still accepts', async () => {
    expect(await associations({ Filters: [{ Name: 'VPC_ID', Values: [VPC] }] })).toEqual([CORP, LEGACY]);
    expect(await associations({ Filters: [{ Name: 'RESOLVER_RULE_ID', Values: [CORP] }] })).toEqual([CORP]);
  });

  it('answers InvalidParameterException to a Status outside CREATING, COMPLETE, DELETING, FAILED', async () => {
    await expect(associations({ Filters: [{ Name: 'Status', Values: ['ACTIVE'] }] })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('answers ValidationException to MaxResults 101', async () => {
    await expect(associations({ MaxResults: 101 })).rejects.toThrow(
      "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100",
    );
  });
});

describe('sandbox Resolver ListResolverEndpointIpAddresses', () => {
  it('answers ValidationException to MaxResults 0', async () => {
    await expect(
      open()
        .clients()
        .resolver.send(
          new ListResolverEndpointIpAddressesCommand({
            ResolverEndpointId: 'rslvr-in-0a1b2c3d4e5f60718',
            MaxResults: 0,
          }),
        ),
    ).rejects.toBeInstanceOf(ValidationException);
  });
});
