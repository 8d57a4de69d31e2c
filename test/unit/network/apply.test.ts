import {
  AuthorizeSecurityGroupIngressCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateMountTargetCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  MountTargetConflict,
} from '@aws-sdk/client-efs';
import {
  AssociateResolverRuleCommand,
  CreateResolverRuleCommand,
  DeleteResolverRuleCommand,
  DisassociateResolverRuleCommand,
  GetResolverRuleCommand,
  InvalidRequestException,
  ListResolverRuleAssociationsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  Route53ResolverServiceException,
  UpdateResolverRuleCommand,
} from '@aws-sdk/client-route53resolver';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { APPLY_BATCH, applyNetworkPlan, MAX_UNSAVED } from '#lib/network/apply';
import type { Action, Plan } from '#lib/network/plan';
import {
  type ApplyProgress,
  OUTCOME_CHUNK,
  readOutcomes,
  reconcileKeys,
  SETTLE_ROUNDS,
  START,
  savePlan,
} from '#lib/network/run-store';
import { memoryStore } from '#test/helpers/memory-store';
import { CLUSTER, REGION, VPC_ID } from '#test/helpers/onboarding-fixtures';
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

const resolverMock = mockResolver();
const ec2Mock = mockClient(EC2Client);
const efsMock = mockClient(EFSClient);

const RUN = '20261130T150000Z-a1b2c3';

const clients = () => createAllAwsClients({ region: REGION });

const action = (type: Action['type'], params: Action['params'], resource: string, after?: number): Action => ({
  type,
  resource,
  cluster: CLUSTER,
  detail: `${type} ${resource}`,
  params,
  ...(after === undefined ? {} : { after }),
});

const createRule = () =>
  action(
    'create-rule',
    {
      domain: 'company.local',
      name: 'on-prem-dns-rule',
      endpointId: OUTBOUND_ID,
      targets: [{ Ip: '192.168.1.53', Port: 53 }],
      creatorRequestId: 'hybridops-0123456789abcdef0123456789abcdef',
      owner: CLUSTER_OWNER,
    },
    'company.local',
  );
const createMountTarget = () =>
  action(
    'create-mount-target',
    { fileSystemId: FS_ID, subnetId: SUBNET_B, securityGroupId: SG_ID, availabilityZone: 'ap-northeast-2b' },
    `${FS_ID}@ap-northeast-2b`,
  );

const throttled = () =>
  new Route53ResolverServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: {},
    message: 'Rate exceeded',
  });

/** Stores the plan, then runs the apply step as the ASL loops it, until it is done. */
async function applyAll(actions: Action[], options: { maxInvocations?: number } = {}) {
  const { store } = memoryStore();
  const plan: Plan = { actions, conflicts: [], findings: [] };
  const ref = await savePlan(store, RUN, 'resolver', plan);
  const progress: ApplyProgress[] = [];
  let current = START;
  for (let i = 0; i < (options.maxInvocations ?? 50) && current.next !== 'done'; i += 1) {
    current = await applyNetworkPlan(
      { clients: clients(), ctx: CTX, store },
      { runId: RUN, plans: [ref], progress: current },
    );
    progress.push(current);
  }
  const outcomes = (await readOutcomes(store, RUN, actions.length)).map((r) => r?.outcome);
  return { outcomes, progress, store };
}

beforeEach(() => {
  resolverMock.reset();
  ec2Mock.reset();
  efsMock.reset();
});

describe('applyNetworkPlan', () => {
  it('tries every action after one fails, gives each its outcome, and revokes no NFS access whose replacement failed', async () => {
    resolverMock
      .on(r53(UpdateResolverRuleCommand))
      .rejects(new InvalidRequestException({ $metadata: {}, message: 'bad' }));
    efsMock
      .on(CreateMountTargetCommand)
      .resolves({ MountTargetId: 'fsmt-0bbbbbbbbbbbbbbbb', LifeCycleState: 'available' });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(
      new EC2ServiceException({
        name: 'RulesPerSecurityGroupLimitExceeded',
        $fault: 'client',
        $metadata: {},
        message: 'limit',
      }),
    );
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const actions = [
      action(
        'update-rule',
        { ruleId: RULE_COMPANY, endpointId: OUTBOUND_ID, targets: [{ Ip: '192.168.1.53', Port: 53 }] },
        RULE_COMPANY,
      ),
      createMountTarget(),
      action('authorize-nfs', { groupId: SG_ID, cidr: '10.244.0.0/16' }, `${SG_ID}/10.244.0.0/16`),
      action('revoke-nfs', { groupId: SG_ID, ruleId: 'sgr-0wide000000000001', cidr: '0.0.0.0/0' }, `${SG_ID}/wide`),
    ];

    const { outcomes, progress } = await applyAll(actions);

    expect(outcomes).toEqual([
      'failed: InvalidRequestException: bad',
      'done',
      'failed: RulesPerSecurityGroupLimitExceeded: limit',
      // The grant meant to replace it failed: NFS access is not cut.
      `skipped: ${SG_ID}/10.244.0.0/16 could not be allowed first, so nothing is revoked`,
    ]);
    expect(progress).toEqual([{ cursor: 4, round: 1, waiting: 0, next: 'done', waitSeconds: 0, total: 4 }]);
    expect(efsMock).toHaveReceivedCommandTimes(CreateMountTargetCommand, 1);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    // The security-group rule is tagged with the stage owner.
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0].input.TagSpecifications).toEqual([
      { ResourceType: 'security-group-rule', Tags: [{ Key: 'hybridops:managed-by', Value: CTX.owner }] },
    ]);
  });

  it('skips the actions whose prerequisite failed, and runs those whose prerequisite was already done', async () => {
    resolverMock.on(r53(CreateResolverRuleCommand)).rejects(throttled());
    resolverMock
      .on(r53(DisassociateResolverRuleCommand))
      .rejects(new ResourceNotFoundException({ $metadata: {}, message: 'no association' }));
    resolverMock.on(r53(DeleteResolverRuleCommand)).resolves({});
    const actions = [
      createRule(),
      action('associate-rule', { vpcId: VPC_ID, domain: 'company.local' }, `company.local@${VPC_ID}`, 0),
      action('disassociate-rule', { ruleId: RULE_OTHER_TEAM, vpcId: VPC_ID }, `old.local@${VPC_ID}`),
      action('delete-rule', { ruleId: RULE_OTHER_TEAM }, RULE_OTHER_TEAM, 2),
    ];

    const { outcomes } = await applyAll(actions);

    expect(outcomes).toEqual([
      'failed: ThrottlingException: Rate exceeded',
      'skipped: it needs create-rule company.local, which did not succeed',
      'already-done',
      'done',
    ]);
    expect(resolverMock).not.toHaveReceivedCommand(r53(AssociateResolverRuleCommand));
  });

  it('associates a rule it created by the id AWS gave it, and waits until the association is COMPLETE', async () => {
    resolverMock.on(r53(CreateResolverRuleCommand)).resolves({ ResolverRule: { Id: RULE_COMPANY } });
    resolverMock.on(r53(AssociateResolverRuleCommand)).resolves({ ResolverRuleAssociation: { Status: 'CREATING' } });
    resolverMock
      .on(r53(ListResolverRuleAssociationsCommand))
      .resolvesOnce({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_COMPANY, VPCId: VPC_ID, Status: 'CREATING' }] })
      .resolves({ ResolverRuleAssociations: [{ ResolverRuleId: RULE_COMPANY, VPCId: VPC_ID, Status: 'COMPLETE' }] });
    const actions = [
      createRule(),
      action('associate-rule', { vpcId: VPC_ID, domain: 'company.local' }, `company.local@${VPC_ID}`, 0),
    ];

    const { outcomes, progress } = await applyAll(actions);

    expect(outcomes).toEqual(['done', 'done']);
    // Each answer is the progress for the next invocation: look again in round 2, then 3.
    expect(progress.map((p) => [p.round, p.next])).toEqual([
      [2, 'wait'],
      [3, 'wait'],
      [3, 'done'],
    ]);
    expect(resolverMock.commandCalls(r53(AssociateResolverRuleCommand)).map((c) => c.args[0].input)).toEqual([
      { ResolverRuleId: RULE_COMPANY, VPCId: VPC_ID },
    ]);
    expect(resolverMock.commandCalls(r53(ListResolverRuleAssociationsCommand)).map((c) => c.args[0].input)).toEqual(
      Array(2).fill({
        Filters: [
          { Name: 'ResolverRuleId', Values: [RULE_COMPANY] },
          { Name: 'VPCId', Values: [VPC_ID] },
        ],
      }),
    );
  });

  it('deletes a rule once its disassociation is over (ResourceInUseException until then)', async () => {
    resolverMock.on(r53(DisassociateResolverRuleCommand)).resolves({ ResolverRuleAssociation: { Status: 'DELETING' } });
    resolverMock
      .on(r53(DeleteResolverRuleCommand))
      .rejectsOnce(new ResourceInUseException({ $metadata: {}, message: 'still associated' }))
      .resolves({});
    resolverMock.on(r53(ListResolverRuleAssociationsCommand)).resolves({
      ResolverRuleAssociations: [{ ResolverRuleId: RULE_OTHER_TEAM, VPCId: OTHER_VPC, Status: 'DELETING' }],
    });
    const actions = [
      action('disassociate-rule', { ruleId: RULE_OTHER_TEAM, vpcId: OTHER_VPC }, `old.local@${OTHER_VPC}`),
      action('delete-rule', { ruleId: RULE_OTHER_TEAM }, RULE_OTHER_TEAM, 0),
    ];

    const { outcomes, progress } = await applyAll(actions);

    expect(outcomes).toEqual(['done', 'done']);
    expect(progress.map((p) => p.next)).toEqual(['wait', 'done']);
    expect(resolverMock).toHaveReceivedCommandTimes(r53(DeleteResolverRuleCommand), 2);
  });

  it('deletes no rule while one of its disassociations did not succeed', async () => {
    resolverMock
      .on(r53(DisassociateResolverRuleCommand))
      .rejectsOnce(new InvalidRequestException({ $metadata: {}, message: 'denied' }))
      .resolves({ ResolverRuleAssociation: { Status: 'DELETING' } });
    const actions = [
      action('disassociate-rule', { ruleId: RULE_OTHER_TEAM, vpcId: VPC_ID }, `old.local@${VPC_ID}`),
      action('disassociate-rule', { ruleId: RULE_OTHER_TEAM, vpcId: OTHER_VPC }, `old.local@${OTHER_VPC}`),
      action('delete-rule', { ruleId: RULE_OTHER_TEAM }, RULE_OTHER_TEAM, 1),
    ];

    const { outcomes, progress } = await applyAll(actions);

    expect(outcomes).toEqual([
      'failed: InvalidRequestException: denied',
      'done',
      `skipped: it needs disassociate-rule old.local@${VPC_ID}, which did not succeed`,
    ]);
    expect(progress).toHaveLength(1);
    expect(resolverMock).not.toHaveReceivedCommand(r53(DeleteResolverRuleCommand));
  });

  it('waits until an updated rule is COMPLETE, and fails what it is refused to look at', async () => {
    resolverMock
      .on(r53(UpdateResolverRuleCommand))
      .resolves({ ResolverRule: { Id: RULE_COMPANY, Status: 'UPDATING' } });
    resolverMock
      .on(r53(GetResolverRuleCommand), { ResolverRuleId: RULE_COMPANY })
      .resolvesOnce({ ResolverRule: { Id: RULE_COMPANY, Status: 'UPDATING' } })
      .resolves({ ResolverRule: { Id: RULE_COMPANY, Status: 'COMPLETE' } });
    resolverMock.on(r53(GetResolverRuleCommand), { ResolverRuleId: RULE_OTHER_TEAM }).rejects(
      new Route53ResolverServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
        message: 'no',
      }),
    );
    const update = (ruleId: string) =>
      action('update-rule', { ruleId, endpointId: OUTBOUND_ID, targets: [{ Ip: '192.168.1.53', Port: 53 }] }, ruleId);

    const { outcomes } = await applyAll([update(RULE_COMPANY), update(RULE_OTHER_TEAM)]);

    expect(outcomes).toEqual(['done', 'failed: could not see how it stands: AccessDeniedException: no']);
  });

  it(`defers what is still at work after ${SETTLE_ROUNDS} passes`, async () => {
    efsMock.on(CreateMountTargetCommand).resolves({ MountTargetId: 'fsmt-0b', LifeCycleState: 'creating' });
    efsMock.on(DescribeMountTargetsCommand).resolves({
      MountTargets: [
        {
          MountTargetId: 'fsmt-0b',
          FileSystemId: FS_ID,
          SubnetId: SUBNET_B,
          AvailabilityZoneName: 'ap-northeast-2b',
          LifeCycleState: 'creating',
        },
      ],
    });

    const { outcomes, progress } = await applyAll([createMountTarget()]);

    expect(progress).toHaveLength(SETTLE_ROUNDS);
    expect(progress.at(-1)?.next).toBe('done');
    expect(outcomes).toEqual([
      `deferred: the mount target in ap-northeast-2b is creating after ${SETTLE_ROUNDS} looks 30 s apart; the next run finishes it`,
    ]);
  });

  it('records a MountTargetConflict as already done when that AZ has an available mount target', async () => {
    efsMock
      .on(CreateMountTargetCommand)
      .rejects(new MountTargetConflict({ $metadata: {}, ErrorCode: 'MountTargetConflict', message: 'exists' }));
    efsMock.on(DescribeMountTargetsCommand).resolves({
      MountTargets: [
        {
          MountTargetId: 'fsmt-0b',
          FileSystemId: FS_ID,
          SubnetId: SUBNET_B,
          AvailabilityZoneName: 'ap-northeast-2b',
          LifeCycleState: 'available',
        },
      ],
    });

    const { outcomes } = await applyAll([createMountTarget()]);

    expect(outcomes).toEqual(['already-done']);
  });

  it(`works ${APPLY_BATCH} actions an invocation, writing ${OUTCOME_CHUNK} outcomes an object`, async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const actions = Array.from({ length: APPLY_BATCH + 30 }, (_, i) =>
      action('authorize-nfs', { groupId: SG_ID, cidr: `10.${i}.0.0/16` }, `${SG_ID}/10.${i}.0.0/16`),
    );

    const { outcomes, progress, store } = await applyAll(actions);

    expect(progress.map((p) => [p.cursor, p.next])).toEqual([
      [APPLY_BATCH, 'apply'],
      [APPLY_BATCH + 30, 'done'],
    ]);
    expect(outcomes.every((o) => o === 'done')).toBe(true);
    expect(await store.getJson(reconcileKeys(RUN).outcomes(2))).toHaveLength(30);
    expect(await store.getJson(reconcileKeys(RUN).outcomes(3))).toBeUndefined();
  });

  it('resumes from the recorded outcomes: a retried invocation applies nothing twice', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const actions = [0, 1, 2].map((i) =>
      action('authorize-nfs', { groupId: SG_ID, cidr: `10.${i}.0.0/16` }, `${SG_ID}/${i}`),
    );
    const { store } = memoryStore();
    const ref = await savePlan(store, RUN, 'efs', { actions, conflicts: [], findings: [] });
    const deps = { clients: clients(), ctx: CTX, store };

    await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: START });
    // The answer was lost: Step Functions runs the same invocation again.
    const again = await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: START });

    expect(again.next).toBe('done');
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 3);
    expect((await readOutcomes(store, RUN, 3)).map((r) => r?.outcome)).toEqual(['done', 'done', 'done']);
  });
});

describe('applyNetworkPlan when the run store will not take the outcomes', () => {
  it('hands them back for the state to carry, and the next invocation writes them and applies nothing twice', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const actions = [0, 1].map((i) =>
      action('authorize-nfs', { groupId: SG_ID, cidr: `10.${i}.0.0/16` }, `${SG_ID}/${i}`),
    );
    const m = memoryStore();
    const ref = await savePlan(m.store, RUN, 'efs', { actions, conflicts: [], findings: [] });
    let down = true;
    const store = {
      ...m.store,
      putJson: async (key: string, value: unknown) => {
        if (down) throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' });
        return m.store.putJson(key, value);
      },
    };
    const deps = { clients: clients(), ctx: CTX, store };

    const first = await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: START });
    down = false;
    const second = await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: first });

    expect(first.unsaved).toEqual([
      { index: 0, record: { outcome: 'done' } },
      { index: 1, record: { outcome: 'done' } },
    ]);
    expect(second).toMatchObject({ next: 'done' });
    expect(second.unsaved).toBeUndefined();
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 2);
    expect((await readOutcomes(m.store, RUN, 2)).map((r) => r?.outcome)).toEqual(['done', 'done']);
  });
});

describe('applyNetworkPlan when the run store cannot be read part-way', () => {
  it('keeps what it did, stops before the action it could not check, and takes it up next time', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const actions = Array.from({ length: OUTCOME_CHUNK + 2 }, (_, i) =>
      action('authorize-nfs', { groupId: SG_ID, cidr: `10.${i}.0.0/16` }, `${SG_ID}/${i}`),
    );
    const m = memoryStore();
    const ref = await savePlan(m.store, RUN, 'efs', { actions, conflicts: [], findings: [] });
    let secondChunkReadable = false;
    const store = {
      ...m.store,
      getJson: async <T>(key: string) => {
        if (key === reconcileKeys(RUN).outcomes(1) && !secondChunkReadable) {
          throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' });
        }
        return m.store.getJson<T>(key);
      },
    };
    const deps = { clients: clients(), ctx: CTX, store };

    const first = await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: START });
    secondChunkReadable = true;
    const second = await applyNetworkPlan(deps, { runId: RUN, plans: [ref], progress: first });

    expect(first).toMatchObject({ cursor: OUTCOME_CHUNK, next: 'apply' });
    expect(second).toMatchObject({ cursor: OUTCOME_CHUNK + 2, next: 'done' });
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, OUTCOME_CHUNK + 2);
  });

  it('fails when it can read nothing, for the workflow to retry or report', async () => {
    const m = memoryStore();
    const ref = await savePlan(m.store, RUN, 'efs', {
      actions: [action('authorize-nfs', { groupId: SG_ID, cidr: '10.0.0.0/16' }, `${SG_ID}/0`)],
      conflicts: [],
      findings: [],
    });
    const store = {
      ...m.store,
      getJson: async <T>(key: string) => {
        if (key.includes('/outcomes/')) throw Object.assign(new Error('down'), { name: 'InternalError' });
        return m.store.getJson<T>(key);
      },
    };

    await expect(
      applyNetworkPlan({ clients: clients(), ctx: CTX, store }, { runId: RUN, plans: [ref], progress: START }),
    ).rejects.toMatchObject({ name: 'InternalError' });
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });

  it(`stops applying, and fails, when the state already carries ${MAX_UNSAVED} outcomes the store refused`, async () => {
    const m = memoryStore();
    const actions = [action('authorize-nfs', { groupId: SG_ID, cidr: '10.0.0.0/16' }, `${SG_ID}/0`)];
    const ref = await savePlan(m.store, RUN, 'efs', { actions, conflicts: [], findings: [] });
    const store = {
      ...m.store,
      putJson: async () => {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    };
    const unsaved = Array.from({ length: MAX_UNSAVED }, (_, index) => ({
      index,
      record: { outcome: 'done' as const },
    }));

    await expect(
      applyNetworkPlan(
        { clients: clients(), ctx: CTX, store },
        { runId: RUN, plans: [ref], progress: { ...START, unsaved } },
      ),
    ).rejects.toMatchObject({ name: 'StoreError' });
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });
});
