import {
  AssociateResolverRuleCommand,
  CreateResolverRuleCommand,
  DeleteResolverRuleCommand,
  DisassociateResolverRuleCommand,
  AccessDeniedException,
  InvalidRequestException,
  ListResolverRuleAssociationsCommand,
  type ListResolverRuleAssociationsRequest,
  ListResolverRulesCommand,
  type ListResolverRulesRequest,
  ListTagsForResourceCommand,
  ResourceExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
  Route53ResolverServiceException,
  ThrottlingException,
  UpdateResolverRuleCommand,
} from '@aws-sdk/client-route53resolver';
import 'aws-sdk-client-mock-jest';
import { mockResolver, r53 } from '#test/helpers/resolver-mock';
import { createAllAwsClients } from '#lib/aws/all-clients';
import type { Action } from '#lib/network/plan';
import { applyResolverAction, observeResolver } from '#lib/network/resolver-aws';
import { creatorRequestId } from '#lib/network/resolver-plan';
import { ACCOUNT, CLUSTER, REGION, VPC_ID } from '#test/helpers/onboarding-fixtures';

const resolverMock = mockResolver();

const OWNER = `eks-hybrid-ops/test/${CLUSTER}`;
const ENDPOINT_ID = 'rslvr-out-0a1b2c3d4e5f60718';
const OTHER_VPC = 'vpc-0ffeeffeeffeeffee';
const RULE_ID = 'rslvr-rr-0a1b2c3d4e5f60718';
const OTHER_RULE_ID = 'rslvr-rr-0999999999999999a';
const CREATOR_REQUEST_ID = creatorRequestId(OWNER, CLUSTER, 'company.local');
const ruleArn = (id: string) => `arn:aws:route53resolver:${REGION}:${ACCOUNT}:resolver-rule/${id}`;
const TARGETS = [
  { Ip: '192.168.1.53', Port: 53 },
  { Ip: '192.168.1.54', Port: 53 },
];

const resolver = () => createAllAwsClients({ region: REGION }).resolver;

/** A 00802 as Resolver words it, naming the rule that holds the association. */
const rslvr00802 = (holder: string) =>
  new InvalidRequestException({
    $metadata: {},
    message: `[RSLVR-00802] Cannot associate rules with same domain name with same VPC. Conflict with resolver rule "${holder}"`,
  });

/**
 * The paginators send one request object and set its NextToken in place for the next page, so a
 * request is copied when it is sent, not read back from commandCalls afterwards.
 */
function recordRequests<T extends object>() {
  const seen: T[] = [];
  return { seen, record: (input: T) => seen.push(structuredClone(input)) };
}

beforeEach(() => resolverMock.reset());

describe('observeResolver', () => {
  /** Two pages of FORWARD rules: this cluster's, an unrelated one, another owner's, an unmanaged duplicate. */
  function seedRules() {
    const rules = recordRequests<ListResolverRulesRequest>();
    resolverMock.on(r53(ListResolverRulesCommand)).callsFake((input: ListResolverRulesRequest) => {
      rules.record(input);
      if (input.NextToken === undefined) {
        return {
          NextToken: 'rules-page-2',
          ResolverRules: [
            {
              Id: RULE_ID,
              Arn: ruleArn(RULE_ID),
              Name: 'on-prem-dns-rule',
              DomainName: 'Company.Local.',
              RuleType: 'FORWARD',
              ResolverEndpointId: ENDPOINT_ID,
              TargetIps: [{ Ip: '192.168.1.53', Port: 53 }, { Ip: '192.168.1.54' }, { Ipv6: 'fd00::53', Port: 53 }],
              CreatorRequestId: CREATOR_REQUEST_ID,
            },
            {
              Id: 'rslvr-rr-0bbbbbbbbbbbbbbbb',
              Arn: ruleArn('rslvr-rr-0bbbbbbbbbbbbbbbb'),
              DomainName: 'legacy.example.',
              RuleType: 'FORWARD',
              ResolverEndpointId: ENDPOINT_ID,
              TargetIps: [{ Ip: '172.16.0.2', Port: 5353 }],
              CreatorRequestId: 'console-2024-01-01',
            },
          ],
        };
      }
      if (input.NextToken === 'rules-page-2') {
        return {
          ResolverRules: [
            {
              Id: 'rslvr-rr-0cccccccccccccccc',
              Arn: ruleArn('rslvr-rr-0cccccccccccccccc'),
              DomainName: 'corp.internal.',
              RuleType: 'FORWARD',
              ResolverEndpointId: ENDPOINT_ID,
              TargetIps: [{ Ip: '192.168.2.53', Port: 53 }],
              CreatorRequestId: 'hybridops-0123456789abcdef0123456789abcdef',
            },
            {
              Id: 'rslvr-rr-0dddddddddddddddd',
              Arn: ruleArn('rslvr-rr-0dddddddddddddddd'),
              Name: 'hand-made',
              DomainName: 'company.local.',
              RuleType: 'FORWARD',
              TargetIps: [{ Ip: '192.168.1.99', Port: 53 }],
            },
            // Not a usable rule: no id.
            { DomainName: 'broken.local.', RuleType: 'FORWARD' },
          ],
        };
      }
      throw new Error(`unexpected NextToken ${input.NextToken}`);
    });
    return rules.seen;
  }

  function seedAssociations() {
    const associations = recordRequests<ListResolverRuleAssociationsRequest>();
    resolverMock
      .on(r53(ListResolverRuleAssociationsCommand))
      .callsFake((input: ListResolverRuleAssociationsRequest) => {
        associations.record(input);
        return input.NextToken === undefined
          ? {
              NextToken: 'assoc-page-2',
              ResolverRuleAssociations: [
                { Id: 'rslvr-rrassoc-0000000000000001', ResolverRuleId: RULE_ID, VPCId: VPC_ID, Status: 'COMPLETE' },
              ],
            }
          : {
              ResolverRuleAssociations: [
                {
                  Id: 'rslvr-rrassoc-0000000000000002',
                  ResolverRuleId: 'rslvr-rr-0bbbbbbbbbbbbbbbb',
                  VPCId: OTHER_VPC,
                  Status: 'CREATING',
                },
                { Id: 'rslvr-rrassoc-0000000000000003', ResolverRuleId: RULE_ID },
              ],
            };
      });
    return associations.seen;
  }

  function seedTags() {
    resolverMock
      .on(r53(ListTagsForResourceCommand), { ResourceArn: ruleArn(RULE_ID) })
      .resolves({ Tags: [{ Key: 'hybridops:managed-by', Value: OWNER }] })
      .on(r53(ListTagsForResourceCommand), { ResourceArn: ruleArn('rslvr-rr-0cccccccccccccccc') })
      .resolves({
        Tags: [
          { Key: 'hybridops:managed-by', Value: 'eks-hybrid-ops/prod/gpu-hybrid-cluster' },
          { Key: 'team', Value: OWNER },
        ],
      })
      .on(r53(ListTagsForResourceCommand), { ResourceArn: ruleArn('rslvr-rr-0dddddddddddddddd') })
      .resolves({ Tags: [{ Key: 'owner', Value: 'network-team' }] });
  }

  it('lists every FORWARD rule and association across pages', async () => {
    const ruleRequests = seedRules();
    const associationRequests = seedAssociations();
    seedTags();

    const observed = await observeResolver(resolver(), { domains: ['company.local'], owner: OWNER });

    expect(ruleRequests).toEqual([
      { Filters: [{ Name: 'Type', Values: ['FORWARD'] }], MaxResults: 100 },
      { Filters: [{ Name: 'Type', Values: ['FORWARD'] }], MaxResults: 100, NextToken: 'rules-page-2' },
    ]);
    expect(associationRequests).toEqual([{ MaxResults: 100 }, { MaxResults: 100, NextToken: 'assoc-page-2' }]);
    expect(observed.rules.map((r) => r.id)).toEqual([
      RULE_ID,
      'rslvr-rr-0bbbbbbbbbbbbbbbb',
      'rslvr-rr-0cccccccccccccccc',
      'rslvr-rr-0dddddddddddddddd',
    ]);
    expect(observed.associations).toEqual([
      { id: 'rslvr-rrassoc-0000000000000001', ruleId: RULE_ID, vpcId: VPC_ID, status: 'COMPLETE' },
      {
        id: 'rslvr-rrassoc-0000000000000002',
        ruleId: 'rslvr-rr-0bbbbbbbbbbbbbbbb',
        vpcId: OTHER_VPC,
        status: 'CREATING',
      },
    ]);
  });

  it('reads the tags of candidate rules only, and calls managed only those tagged with this owner', async () => {
    seedRules();
    seedAssociations();
    seedTags();

    const observed = await observeResolver(resolver(), { domains: ['company.local'], owner: OWNER });

    // company.local (declared, twice) and corp.internal (created by hybridops), not legacy.example.
    expect(resolverMock.commandCalls(r53(ListTagsForResourceCommand)).map((c) => c.args[0].input)).toEqual([
      { ResourceArn: ruleArn(RULE_ID) },
      { ResourceArn: ruleArn('rslvr-rr-0cccccccccccccccc') },
      { ResourceArn: ruleArn('rslvr-rr-0dddddddddddddddd') },
    ]);
    expect(observed.rules).toEqual([
      {
        id: RULE_ID,
        arn: ruleArn(RULE_ID),
        name: 'on-prem-dns-rule',
        domain: 'company.local',
        ruleType: 'FORWARD',
        endpointId: ENDPOINT_ID,
        // The port defaults to 53; an IPv6-only target is not one of ours.
        targets: [
          { ip: '192.168.1.53', port: 53 },
          { ip: '192.168.1.54', port: 53 },
        ],
        managed: true,
      },
      {
        id: 'rslvr-rr-0bbbbbbbbbbbbbbbb',
        arn: ruleArn('rslvr-rr-0bbbbbbbbbbbbbbbb'),
        name: undefined,
        domain: 'legacy.example',
        ruleType: 'FORWARD',
        endpointId: ENDPOINT_ID,
        targets: [{ ip: '172.16.0.2', port: 5353 }],
        managed: false,
      },
      {
        id: 'rslvr-rr-0cccccccccccccccc',
        arn: ruleArn('rslvr-rr-0cccccccccccccccc'),
        name: undefined,
        domain: 'corp.internal',
        ruleType: 'FORWARD',
        endpointId: ENDPOINT_ID,
        targets: [{ ip: '192.168.2.53', port: 53 }],
        managed: false,
      },
      {
        id: 'rslvr-rr-0dddddddddddddddd',
        arn: ruleArn('rslvr-rr-0dddddddddddddddd'),
        name: 'hand-made',
        domain: 'company.local',
        ruleType: 'FORWARD',
        endpointId: undefined,
        targets: [{ ip: '192.168.1.99', port: 53 }],
        managed: false,
      },
    ]);
  });

  it('with no domain declared, reads the tags only of rules created with a hybridops- request id', async () => {
    seedRules();
    seedAssociations();
    resolverMock.on(r53(ListTagsForResourceCommand)).resolves({ Tags: [] });

    const observed = await observeResolver(resolver(), { domains: [], owner: OWNER });

    // Not the hand-made company.local rule nor legacy.example: neither is declared nor ours.
    expect(resolverMock.commandCalls(r53(ListTagsForResourceCommand)).map((c) => c.args[0].input)).toEqual([
      { ResourceArn: ruleArn(RULE_ID) },
      { ResourceArn: ruleArn('rslvr-rr-0cccccccccccccccc') },
    ]);
    expect(observed.rules.every((r) => !r.managed)).toBe(true);
  });

  it('lets a failed tag read fail the observation rather than guess', async () => {
    seedRules();
    seedAssociations();
    resolverMock.on(r53(ListTagsForResourceCommand)).rejects(
      new Route53ResolverServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
        message: 'Rate exceeded',
      }),
    );

    await expect(observeResolver(resolver(), { domains: ['company.local'], owner: OWNER })).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });
});

describe('applyResolverAction', () => {
  const action = (type: Action['type'], params: Action['params'], resource = 'company.local'): Action => ({
    type,
    resource,
    cluster: CLUSTER,
    detail: `${type} ${resource}`,
    params,
  });
  const createRule = () =>
    action('create-rule', {
      domain: 'company.local',
      name: 'on-prem-dns-rule',
      endpointId: ENDPOINT_ID,
      targets: TARGETS,
      creatorRequestId: CREATOR_REQUEST_ID,
      owner: OWNER,
    });
  const associateByDomain = (vpcId = VPC_ID) =>
    action('associate-rule', { vpcId, domain: 'company.local' }, `company.local@${vpcId}`);
  const associateById = (vpcId = VPC_ID) =>
    action('associate-rule', { vpcId, ruleId: RULE_ID }, `company.local@${vpcId}`);

  describe('create-rule', () => {
    it('creates a tagged FORWARD rule and hands its id to a later association by domain', async () => {
      resolverMock
        .on(r53(CreateResolverRuleCommand))
        .resolves({ ResolverRule: { Id: RULE_ID, Arn: ruleArn(RULE_ID) } });
      resolverMock.on(r53(AssociateResolverRuleCommand)).resolves({});
      const created = new Map<string, string>();

      await expect(applyResolverAction(resolver(), createRule(), created)).resolves.toBe('done');
      await expect(applyResolverAction(resolver(), associateByDomain(), created)).resolves.toBe('done');

      expect(resolverMock.commandCalls(r53(CreateResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
        {
          CreatorRequestId: CREATOR_REQUEST_ID,
          Name: 'on-prem-dns-rule',
          RuleType: 'FORWARD',
          DomainName: 'company.local',
          TargetIps: TARGETS,
          ResolverEndpointId: ENDPOINT_ID,
          Tags: [{ Key: 'hybridops:managed-by', Value: OWNER }],
        },
      ]);
      expect(created).toEqual(new Map([['company.local', RULE_ID]]));
      expect(resolverMock.commandCalls(r53(AssociateResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
        { ResolverRuleId: RULE_ID, VPCId: VPC_ID },
      ]);
    });

    it('takes ResourceExistsException as a retry of its own request and finds the rule by CreatorRequestId', async () => {
      resolverMock
        .on(r53(CreateResolverRuleCommand))
        .rejects(new ResourceExistsException({ $metadata: {}, message: '[RSLVR-00700] exists' }));
      const lookups = recordRequests<ListResolverRulesRequest>();
      resolverMock.on(r53(ListResolverRulesCommand)).callsFake((input: ListResolverRulesRequest) => {
        lookups.record(input);
        // An empty first page with a token is a valid Resolver answer.
        return input.NextToken === undefined
          ? { NextToken: 'lookup-2', ResolverRules: [] }
          : { ResolverRules: [{ Id: RULE_ID, CreatorRequestId: CREATOR_REQUEST_ID, DomainName: 'company.local.' }] };
      });
      const created = new Map<string, string>();

      await expect(applyResolverAction(resolver(), createRule(), created)).resolves.toBe('already-done');

      expect(lookups.seen).toEqual([
        { Filters: [{ Name: 'CreatorRequestId', Values: [CREATOR_REQUEST_ID] }] },
        { Filters: [{ Name: 'CreatorRequestId', Values: [CREATOR_REQUEST_ID] }], NextToken: 'lookup-2' },
      ]);
      expect(created.get('company.local')).toBe(RULE_ID);
    });

    it('rethrows ResourceExistsException when no rule carries its CreatorRequestId', async () => {
      const exists = new ResourceExistsException({ $metadata: {}, message: 'exists' });
      resolverMock.on(r53(CreateResolverRuleCommand)).rejects(exists);
      resolverMock.on(r53(ListResolverRulesCommand)).resolves({
        ResolverRules: [{ Id: OTHER_RULE_ID, CreatorRequestId: 'hybridops-someone-else' }],
      });
      const created = new Map<string, string>();

      await expect(applyResolverAction(resolver(), createRule(), created)).rejects.toBe(exists);
      expect(created.size).toBe(0);
    });
  });

  describe('associate-rule', () => {
    it('takes RSLVR-00802 naming the same rule as its own earlier try (answer lost): done, or waiting while CREATING', async () => {
      resolverMock.on(r53(AssociateResolverRuleCommand)).rejects(rslvr00802(RULE_ID));
      resolverMock
        .on(r53(ListResolverRuleAssociationsCommand))
        .resolvesOnce({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_ID, VPCId: VPC_ID, Status: 'CREATING' }] })
        .resolves({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_ID, VPCId: VPC_ID, Status: 'COMPLETE' }] });

      await expect(applyResolverAction(resolver(), associateById(), new Map())).resolves.toBe(
        `waiting: the association with ${VPC_ID} is CREATING`,
      );
      await expect(applyResolverAction(resolver(), associateById(), new Map())).resolves.toBe('done');
      expect(resolverMock.commandCalls(r53(AssociateResolverRuleCommand))[0]?.args[0].input).toEqual({
        ResolverRuleId: RULE_ID,
        VPCId: VPC_ID,
      });
      expect(resolverMock.commandCalls(r53(ListResolverRuleAssociationsCommand))[0]?.args[0].input).toEqual({
        Filters: [
          { Name: 'ResolverRuleId', Values: [RULE_ID] },
          { Name: 'VPCId', Values: [VPC_ID] },
        ],
      });
    });

    it('fails when RSLVR-00802 names another rule for the domain in that VPC', async () => {
      resolverMock.on(r53(AssociateResolverRuleCommand)).rejects(rslvr00802(OTHER_RULE_ID));

      await expect(applyResolverAction(resolver(), associateById(), new Map())).resolves.toBe(
        `failed: ${VPC_ID} already forwards this domain with rule ${OTHER_RULE_ID} (RSLVR-00802)`,
      );
    });

    it('reports RSLVR-00804 as a config error', async () => {
      resolverMock.on(r53(AssociateResolverRuleCommand)).rejects(
        new InvalidRequestException({
          $metadata: {},
          message:
            '[RSLVR-00804] Cannot associate a rule whose target IP is an IP of an inbound endpoint in the same VPC.',
        }),
      );

      const outcome = await applyResolverAction(resolver(), associateById(), new Map());

      expect(outcome).toBe(
        `failed: config error: a target IP of this rule belongs to an INBOUND endpoint in ${VPC_ID} (RSLVR-00804); point the rule at the on-prem DNS servers`,
      );
    });

    it('rethrows any other InvalidRequestException for the caller to record', async () => {
      const invalid = new InvalidRequestException({ $metadata: {}, message: 'VPC vpc-0nope does not exist' });
      resolverMock.on(r53(AssociateResolverRuleCommand)).rejects(invalid);

      await expect(applyResolverAction(resolver(), associateById(), new Map())).rejects.toBe(invalid);
    });

    it('is skipped, with no call, when the rule it needs was not created', async () => {
      const outcome = await applyResolverAction(resolver(), associateByDomain(), new Map());

      expect(outcome).toBe('skipped: the rule for company.local was not created');
      expect(resolverMock).not.toHaveReceivedCommand(r53(AssociateResolverRuleCommand));
    });
  });

  it('update-rule replaces the targets and endpoint', async () => {
    resolverMock.on(r53(UpdateResolverRuleCommand)).resolves({ ResolverRule: { Id: RULE_ID } });
    const update = action('update-rule', { ruleId: RULE_ID, endpointId: ENDPOINT_ID, targets: TARGETS }, RULE_ID);

    await expect(applyResolverAction(resolver(), update, new Map())).resolves.toBe('done');
    expect(resolverMock.commandCalls(r53(UpdateResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
      { ResolverRuleId: RULE_ID, Config: { TargetIps: TARGETS, ResolverEndpointId: ENDPOINT_ID } },
    ]);
  });

  describe('disassociate-rule', () => {
    const disassociate = () =>
      action('disassociate-rule', { ruleId: RULE_ID, vpcId: OTHER_VPC }, `company.local@${OTHER_VPC}`);

    it('disassociates the rule from the VPC', async () => {
      resolverMock.on(r53(DisassociateResolverRuleCommand)).resolves({});

      await expect(applyResolverAction(resolver(), disassociate(), new Map())).resolves.toBe('done');
      expect(resolverMock.commandCalls(r53(DisassociateResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
        { ResolverRuleId: RULE_ID, VPCId: OTHER_VPC },
      ]);
    });

    it('takes ResourceNotFoundException as already disassociated', async () => {
      resolverMock
        .on(r53(DisassociateResolverRuleCommand))
        .rejects(new ResourceNotFoundException({ $metadata: {}, message: 'no association' }));

      await expect(applyResolverAction(resolver(), disassociate(), new Map())).resolves.toBe('already-done');
    });
  });

  describe('delete-rule', () => {
    const remove = () => action('delete-rule', { ruleId: RULE_ID }, RULE_ID);

    it('deletes the rule by id', async () => {
      resolverMock.on(r53(DeleteResolverRuleCommand)).resolves({});

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe('done');
      expect(resolverMock.commandCalls(r53(DeleteResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
        { ResolverRuleId: RULE_ID },
      ]);
    });

    it('takes ResourceNotFoundException as already deleted', async () => {
      resolverMock
        .on(r53(DeleteResolverRuleCommand))
        .rejects(new ResourceNotFoundException({ $metadata: {}, message: 'no such rule' }));

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe('already-done');
    });

    it('waits while the rule is in use and AWS is removing its associations (DELETING)', async () => {
      resolverMock
        .on(r53(DeleteResolverRuleCommand))
        .rejects(new ResourceInUseException({ $metadata: {}, message: 'rule is associated with a VPC' }));
      resolverMock
        .on(r53(ListResolverRuleAssociationsCommand))
        .resolves({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_ID, VPCId: VPC_ID, Status: 'DELETING' }] });

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe(
        'waiting: its VPC associations are still being removed',
      );
      expect(resolverMock.commandCalls(r53(ListResolverRuleAssociationsCommand))[0]?.args[0].input).toEqual({
        Filters: [{ Name: 'ResolverRuleId', Values: [RULE_ID] }],
      });
    });

    it('fails, rather than wait for nothing, when the rule is in use and no disassociation is under way', async () => {
      resolverMock
        .on(r53(DeleteResolverRuleCommand))
        .rejects(new ResourceInUseException({ $metadata: {}, message: 'rule is associated with a VPC' }));
      resolverMock
        .on(r53(ListResolverRuleAssociationsCommand))
        .resolves({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_ID, VPCId: VPC_ID, Status: 'COMPLETE' }] });

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe(
        `failed: it is still associated with ${VPC_ID}, and no disassociation is under way`,
      );
    });

    it('waits, rather than fail, when the rule is in use but no association of it is listed', async () => {
      // The last DELETING association went between the two calls, or the rule is shared and
      // another account associates it: a look later decides (deferred when the looks run out).
      resolverMock
        .on(r53(DeleteResolverRuleCommand))
        .rejects(new ResourceInUseException({ $metadata: {}, message: 'rule is associated with a VPC' }));
      resolverMock.on(r53(ListResolverRuleAssociationsCommand)).resolves({ ResolverRuleAssociations: [] });

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe(
        'waiting: AWS still counts it in use, though it lists no association of it',
      );
    });

    it('waits when the associations of a rule in use cannot be listed for a moment, and throws a refusal', async () => {
      resolverMock
        .on(r53(DeleteResolverRuleCommand))
        .rejects(new ResourceInUseException({ $metadata: {}, message: 'rule is associated with a VPC' }));
      resolverMock
        .on(r53(ListResolverRuleAssociationsCommand))
        .rejectsOnce(new ThrottlingException({ $metadata: {}, message: 'Rate exceeded' }))
        .rejectsOnce(new AccessDeniedException({ $metadata: {}, message: 'not authorized' }));

      await expect(applyResolverAction(resolver(), remove(), new Map())).resolves.toBe(
        'waiting: it is in use, and its associations could not be listed',
      );
      await expect(applyResolverAction(resolver(), remove(), new Map())).rejects.toThrow(AccessDeniedException);
    });
  });

  it('refuses an EFS action', async () => {
    const efsAction = action('authorize-nfs', { groupId: 'sg-0e5f0a1b2c3d40718', cidr: '192.168.0.0/16' });

    await expect(applyResolverAction(resolver(), efsAction, new Map())).rejects.toThrow(
      'not a Resolver action: authorize-nfs',
    );
    expect(resolverMock.calls()).toHaveLength(0);
  });
});
