import type { ClusterDesiredState } from '#lib/desired-state/schema';
import {
  creatorRequestId,
  defaultRuleName,
  MANAGED_TAG,
  normaliseDomain,
  type ObservedAssociation,
  type ObservedRule,
  resolverPlan,
  type ResolverObservation,
} from '#lib/network/resolver-plan';

const OWNER = 'eks-hybrid-ops/dev';
const CLUSTER = 'gpu-hybrid-cluster';
const CLUSTER_VPC = 'vpc-0c1a2b3c4d5e6f708';
const OTHER_VPC = 'vpc-0f0e0d0c0b0a09080';
const OUT = 'rslvr-out-0a1b2c3d4e5f60718';
const RULE_ID = 'rslvr-rr-0123456789abcdef0';

/** The dev cluster's outbound forwarding for company.local, fresh per call. */
const cluster = (rules?: NonNullable<ClusterDesiredState['dns']>['outbound']['rules']): ClusterDesiredState => ({
  name: CLUSTER,
  dns: {
    outbound: {
      endpointId: OUT,
      rules: rules ?? [
        {
          domain: 'company.local',
          name: 'on-prem-dns-rule',
          targets: [
            { ip: '192.168.1.53', port: 53 },
            { ip: '192.168.1.54', port: 53 },
          ],
        },
      ],
    },
  },
});

/** A managed rule that matches `cluster()` exactly. */
const rule = (over: Partial<ObservedRule> = {}): ObservedRule => ({
  id: RULE_ID,
  arn: `arn:aws:route53resolver:us-east-1:111122223333:resolver-rule/${over.id ?? RULE_ID}`,
  name: 'on-prem-dns-rule',
  domain: 'company.local',
  ruleType: 'FORWARD',
  endpointId: OUT,
  targets: [
    { ip: '192.168.1.54', port: 53 },
    { ip: '192.168.1.53', port: 53 },
  ],
  managed: true,
  ...over,
});

const association = (over: Partial<ObservedAssociation> = {}): ObservedAssociation => ({
  id: 'rslvr-rrassoc-0123456789abcdef0',
  ruleId: RULE_ID,
  vpcId: CLUSTER_VPC,
  status: 'COMPLETE',
  ...over,
});

const plan = (observed: ResolverObservation, c: ClusterDesiredState = cluster()) =>
  resolverPlan({ cluster: c, clusterVpcId: CLUSTER_VPC, observed, owner: OWNER });

describe('resolverPlan', () => {
  it('plans nothing for a cluster without dns', () => {
    expect(plan({ rules: [rule()], associations: [] }, { name: CLUSTER })).toEqual({
      actions: [],
      conflicts: [],
      findings: [],
    });
  });

  it('creates a missing rule, then associates it with the cluster VPC after the creation', () => {
    const result = plan({ rules: [], associations: [] });
    expect(result.conflicts).toEqual([]);
    expect(result.actions).toEqual([
      {
        type: 'create-rule',
        resource: 'company.local',
        cluster: CLUSTER,
        detail: expect.stringContaining('no forwarding rule for company.local'),
        params: {
          domain: 'company.local',
          name: 'on-prem-dns-rule',
          endpointId: OUT,
          targets: [
            { Ip: '192.168.1.53', Port: 53 },
            { Ip: '192.168.1.54', Port: 53 },
          ],
          creatorRequestId: creatorRequestId(OWNER, CLUSTER, 'company.local'),
          owner: OWNER,
        },
      },
      {
        type: 'associate-rule',
        resource: `company.local@${CLUSTER_VPC}`,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { vpcId: CLUSTER_VPC, domain: 'company.local' },
        after: 0,
      },
    ]);
  });

  it('names a new rule after its domain when the config gives no name', () => {
    const result = plan(
      { rules: [], associations: [] },
      cluster([{ domain: 'corp.example', targets: [{ ip: '10.1.0.2', port: 53 }] }]),
    );
    expect(result.actions[0]?.params).toMatchObject({ name: 'hybridops-corp-example' });
  });

  it('plans nothing when the rule matches and is associated', () => {
    expect(plan({ rules: [rule()], associations: [association()] })).toEqual({
      actions: [],
      conflicts: [],
      findings: [],
    });
  });

  it('updates a rule whose target IP is wrong, to exactly the declared targets', () => {
    const observed = {
      rules: [
        rule({
          targets: [
            { ip: '192.168.1.53', port: 53 },
            { ip: '192.168.1.99', port: 53 },
          ],
        }),
      ],
      associations: [association()],
    };
    expect(plan(observed).actions).toEqual([
      {
        type: 'update-rule',
        resource: RULE_ID,
        cluster: CLUSTER,
        detail: expect.stringContaining('192.168.1.99:53'),
        params: {
          ruleId: RULE_ID,
          endpointId: OUT,
          targets: [
            { Ip: '192.168.1.53', Port: 53 },
            { Ip: '192.168.1.54', Port: 53 },
          ],
        },
      },
    ]);
  });

  it('updates a rule whose target port is wrong', () => {
    const observed = {
      rules: [
        rule({
          targets: [
            { ip: '192.168.1.53', port: 53 },
            { ip: '192.168.1.54', port: 5353 },
          ],
        }),
      ],
      associations: [association()],
    };
    expect(plan(observed).actions.map((a) => a.type)).toEqual(['update-rule']);
  });

  it('updates a rule that forwards through another outbound endpoint', () => {
    const observed = { rules: [rule({ endpointId: 'rslvr-out-0ffffffffffffffff' })], associations: [association()] };
    expect(plan(observed).actions).toEqual([
      {
        type: 'update-rule',
        resource: RULE_ID,
        cluster: CLUSTER,
        detail: expect.stringContaining(
          `via rslvr-out-0ffffffffffffffff -> 192.168.1.53:53,192.168.1.54:53 via ${OUT}`,
        ),
        params: {
          ruleId: RULE_ID,
          endpointId: OUT,
          targets: [
            { Ip: '192.168.1.53', Port: 53 },
            { Ip: '192.168.1.54', Port: 53 },
          ],
        },
      },
    ]);
  });

  it('associates an existing rule with a VPC it is missing from, by rule id', () => {
    expect(plan({ rules: [rule()], associations: [] }).actions).toEqual([
      {
        type: 'associate-rule',
        resource: `company.local@${CLUSTER_VPC}`,
        cluster: CLUSTER,
        detail: `company.local is not associated with ${CLUSTER_VPC}: associate it`,
        params: { vpcId: CLUSTER_VPC, ruleId: RULE_ID },
      },
    ]);
  });

  it('treats an association being deleted as missing', () => {
    const result = plan({ rules: [rule()], associations: [association({ status: 'DELETING' })] });
    expect(result.actions.map((a) => [a.type, a.params])).toEqual([
      ['associate-rule', { vpcId: CLUSTER_VPC, ruleId: RULE_ID }],
    ]);
  });

  it('disassociates a rule from a VPC that is not declared', () => {
    const observed = {
      rules: [rule()],
      associations: [association(), association({ id: 'rslvr-rrassoc-0fedcba9876543210', vpcId: OTHER_VPC })],
    };
    expect(plan(observed).actions).toEqual([
      {
        type: 'disassociate-rule',
        resource: `company.local@${OTHER_VPC}`,
        cluster: CLUSTER,
        detail: `company.local is associated with ${OTHER_VPC}, which is not declared: disassociate it`,
        params: { ruleId: RULE_ID, vpcId: OTHER_VPC },
      },
    ]);
  });

  it('reports an unmanaged rule for a declared domain as a conflict and plans nothing for that domain', () => {
    const unmanaged = rule({ id: 'rslvr-rr-0aaaaaaaaaaaaaaaa', name: 'hand-made', managed: false, targets: [] });
    const result = plan({ rules: [unmanaged], associations: [] });
    expect(result.actions).toEqual([]);
    expect(result.conflicts).toEqual([
      {
        cluster: CLUSTER,
        resource: 'rslvr-rr-0aaaaaaaaaaaaaaaa',
        message: expect.stringContaining(
          'rslvr-rr-0aaaaaaaaaaaaaaaa (hand-made) for company.local exists but is not managed',
        ),
        fix: expect.stringContaining(`tag it ${MANAGED_TAG}=<owner>`),
      },
    ]);
  });

  it('still plans other declared domains beside a conflict', () => {
    const unmanaged = rule({ id: 'rslvr-rr-0aaaaaaaaaaaaaaaa', managed: false });
    const result = plan(
      { rules: [unmanaged], associations: [] },
      cluster([
        { domain: 'company.local', targets: [{ ip: '192.168.1.53', port: 53 }] },
        { domain: 'corp.example', targets: [{ ip: '10.1.0.2', port: 53 }] },
      ]),
    );
    expect(result.conflicts.map((c) => c.resource)).toEqual(['rslvr-rr-0aaaaaaaaaaaaaaaa']);
    expect(result.actions.map((a) => [a.type, a.resource])).toEqual([
      ['create-rule', 'corp.example'],
      ['associate-rule', `corp.example@${CLUSTER_VPC}`],
    ]);
  });

  it('disassociates a managed rule for an undeclared domain from each VPC, then deletes it', () => {
    const stale = rule({ id: 'rslvr-rr-0bbbbbbbbbbbbbbbb', domain: 'old.company.local' });
    const observed = {
      rules: [rule(), stale],
      associations: [
        association(),
        association({ id: 'rslvr-rrassoc-01', ruleId: stale.id, vpcId: CLUSTER_VPC }),
        association({ id: 'rslvr-rrassoc-02', ruleId: stale.id, vpcId: OTHER_VPC }),
      ],
    };
    const { actions, conflicts } = plan(observed);
    expect(conflicts).toEqual([]);
    expect(actions).toEqual([
      {
        type: 'disassociate-rule',
        resource: `old.company.local@${CLUSTER_VPC}`,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { ruleId: stale.id, vpcId: CLUSTER_VPC },
      },
      {
        type: 'disassociate-rule',
        resource: `old.company.local@${OTHER_VPC}`,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { ruleId: stale.id, vpcId: OTHER_VPC },
      },
      {
        type: 'delete-rule',
        resource: stale.id,
        cluster: CLUSTER,
        detail: 'old.company.local is no longer declared: delete the rule',
        params: { ruleId: stale.id },
        after: 1,
      },
    ]);
  });

  it('deletes an unassociated managed rule for an undeclared domain without waiting on anything', () => {
    const stale = rule({ id: 'rslvr-rr-0bbbbbbbbbbbbbbbb', domain: 'old.company.local' });
    const { actions } = plan({ rules: [rule(), stale], associations: [association()] });
    expect(actions).toEqual([
      {
        type: 'delete-rule',
        resource: stale.id,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { ruleId: stale.id },
      },
    ]);
    expect(actions[0]).not.toHaveProperty('after');
  });

  it('leaves an unmanaged rule for an undeclared domain alone, without a conflict', () => {
    const theirs = rule({ id: 'rslvr-rr-0cccccccccccccccc', domain: 'theirs.example', managed: false });
    const observed = {
      rules: [rule(), theirs],
      associations: [association(), association({ id: 'rslvr-rrassoc-03', ruleId: theirs.id, vpcId: OTHER_VPC })],
    };
    expect(plan(observed)).toEqual({ actions: [], conflicts: [], findings: [] });
  });

  it('ignores RECURSIVE and SYSTEM rules, for declared and undeclared domains alike', () => {
    const observed = {
      rules: [
        rule({ id: 'rslvr-autodefined-rr-internet-resolver', domain: '', ruleType: 'RECURSIVE', managed: false }),
        rule({ id: 'rslvr-rr-0dddddddddddddddd', ruleType: 'RECURSIVE', managed: false }),
        rule({ id: 'rslvr-rr-0eeeeeeeeeeeeeeee', domain: 'gone.example', ruleType: 'RECURSIVE', managed: true }),
        rule({ id: 'rslvr-rr-0fffffffffffffffe', ruleType: 'SYSTEM', managed: false }),
      ],
      associations: [],
    };
    const result = plan(observed);
    expect(result.conflicts).toEqual([]);
    expect(result.actions.map((a) => a.type)).toEqual(['create-rule', 'associate-rule']);
  });

  it('associates with the declared vpcs instead of the cluster VPC', () => {
    const declared = cluster([
      {
        domain: 'company.local',
        targets: [
          { ip: '192.168.1.53', port: 53 },
          { ip: '192.168.1.54', port: 53 },
        ],
        vpcs: [OTHER_VPC, 'vpc-0a0a0a0a0a0a0a0a0'],
      },
    ]);
    const result = plan({ rules: [rule()], associations: [association()] }, declared);
    expect(result.actions).toEqual([
      {
        type: 'associate-rule',
        resource: `company.local@${OTHER_VPC}`,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { vpcId: OTHER_VPC, ruleId: RULE_ID },
      },
      {
        type: 'associate-rule',
        resource: 'company.local@vpc-0a0a0a0a0a0a0a0a0',
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { vpcId: 'vpc-0a0a0a0a0a0a0a0a0', ruleId: RULE_ID },
      },
      {
        type: 'disassociate-rule',
        resource: `company.local@${CLUSTER_VPC}`,
        cluster: CLUSTER,
        detail: expect.any(String),
        params: { ruleId: RULE_ID, vpcId: CLUSTER_VPC },
      },
    ]);
  });

  it('associates a new rule with each declared VPC after its creation', () => {
    const declared = cluster([
      { domain: 'company.local', targets: [{ ip: '192.168.1.53', port: 53 }], vpcs: [OTHER_VPC, CLUSTER_VPC] },
    ]);
    const { actions } = plan({ rules: [], associations: [] }, declared);
    expect(actions.map((a) => [a.type, a.resource, a.after])).toEqual([
      ['create-rule', 'company.local', undefined],
      ['associate-rule', `company.local@${OTHER_VPC}`, 0],
      ['associate-rule', `company.local@${CLUSTER_VPC}`, 0],
    ]);
  });

  it('points each association at its own creation when several rules are new', () => {
    const declared = cluster([
      { domain: 'company.local', targets: [{ ip: '192.168.1.53', port: 53 }] },
      { domain: 'corp.example', targets: [{ ip: '10.1.0.2', port: 53 }] },
    ]);
    const { actions } = plan({ rules: [], associations: [] }, declared);
    expect(actions.map((a) => [a.type, a.resource, a.after])).toEqual([
      ['create-rule', 'company.local', undefined],
      ['associate-rule', `company.local@${CLUSTER_VPC}`, 0],
      ['create-rule', 'corp.example', undefined],
      ['associate-rule', `corp.example@${CLUSTER_VPC}`, 2],
    ]);
  });
});

describe('creatorRequestId', () => {
  it('is the same for the same owner, cluster and domain', () => {
    expect(creatorRequestId(OWNER, CLUSTER, 'company.local')).toBe(creatorRequestId(OWNER, CLUSTER, 'company.local'));
  });

  it('differs per domain, cluster and owner', () => {
    const ids = new Set([
      creatorRequestId(OWNER, CLUSTER, 'company.local'),
      creatorRequestId(OWNER, CLUSTER, 'corp.example'),
      creatorRequestId(OWNER, 'cpu-hybrid-cluster', 'company.local'),
      creatorRequestId('eks-hybrid-ops/prod', CLUSTER, 'company.local'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('fits CreateResolverRule: hybridops- and 32 hex digits', () => {
    expect(creatorRequestId(OWNER, CLUSTER, 'company.local')).toMatch(/^hybridops-[0-9a-f]{32}$/);
  });
});

describe('defaultRuleName', () => {
  it.each([
    ['company.local', 'hybridops-company-local'],
    ['my-service.eks.amazonaws.com', 'hybridops-my-service-eks-amazonaws-com'],
    ['a--b.example', 'hybridops-a-b-example'],
  ])('names %s %s', (domain, name) => {
    expect(defaultRuleName(domain)).toBe(name);
  });

  it('stays within the 64-character rule name limit', () => {
    const name = defaultRuleName(`${'a'.repeat(60)}.${'b'.repeat(60)}.local`);
    expect(name).toHaveLength(64);
    expect(name.startsWith('hybridops-aaaa')).toBe(true);
  });
});

describe('normaliseDomain', () => {
  it('lower-cases and drops the trailing dot Resolver writes', () => {
    expect(normaliseDomain('Company.Local.')).toBe('company.local');
    expect(normaliseDomain('company.local')).toBe('company.local');
  });
});
