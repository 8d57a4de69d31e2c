import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { startReconcile } from '#test/helpers/api-answer';
import type { Action, Plan } from '#lib/network/plan';
import { loadDesiredState } from '#lib/network/desired-state';
import { MAX_DETAILED } from '#lib/notifications';
import { forState, networkReport } from '#lib/network/report';
import { failedStep, networkFailureReport, reportNetworkFailure } from '#lib/network/report-failure';
import { dnsCheckDesiredState } from '#test/helpers/network-fixtures';

const ssmMock = mockClient(SSMClient);
const sfnMock = mockClient(SFNClient);
const PARAMETER = '/eks-hybrid-ops/test/desired-state/network';
const VALID = {
  version: 1,
  clusters: [
    {
      name: 'gpu-hybrid-cluster',
      efs: { fileSystemId: 'fs-0a1b2c3d4e5f60718', securityGroupId: 'sg-0e5f0a1b2c3d40718' },
    },
  ],
};

beforeEach(() => {
  ssmMock.reset();
  sfnMock.reset();
});

const stored = (value: unknown) =>
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(value) } });
const load = (mode: 'plan' | 'apply') =>
  loadDesiredState(new SSMClient({ region: 'ap-northeast-2' }), { parameter: PARAMETER, mode });

describe('loadDesiredState', () => {
  it('reads and validates the deployed desired state, applying defaults', async () => {
    stored(VALID);
    const { desired, empty } = await load('apply');
    expect(empty).toBe(false);
    expect(desired.clusters[0]?.efs?.createMissingMountTargets).toBe(false);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: PARAMETER });
  });

  it.each(['plan', 'apply'] as const)('refuses an invalid desired state in %s mode, naming the field', async (mode) => {
    stored({
      ...VALID,
      clusters: [
        { name: 'gpu-hybrid-cluster', efs: { fileSystemId: 'fs-x', securityGroupId: 'sg-0e5f0a1b2c3d40718' } },
      ],
    });
    await expect(load(mode)).rejects.toMatchObject({
      name: 'InvalidDesiredStateError',
      message: expect.stringContaining('clusters.0.efs.fileSystemId'),
    });
  });

  it('refuses to apply an empty desired state, but plans it', async () => {
    stored({ version: 1, clusters: [] });
    await expect(load('apply')).rejects.toMatchObject({ name: 'EmptyDesiredStateError' });
    await expect(load('plan')).resolves.toMatchObject({ empty: true });
  });

  it('says how to fix a missing parameter', async () => {
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'no' }));
    await expect(load('plan')).rejects.toMatchObject({
      name: 'InvalidDesiredStateError',
      message: expect.stringContaining('osls deploy'),
    });
  });
});

const action = (outcome?: Action['outcome']): Action => ({
  type: 'associate-rule',
  resource: 'company.local@vpc-0a1b2c3d4e5f60718',
  cluster: 'gpu-hybrid-cluster',
  detail: 'company.local is not associated with vpc-0a1b2c3d4e5f60718: associate it',
  params: { vpcId: 'vpc-0a1b2c3d4e5f60718', ruleId: 'rslvr-rr-1' },
  ...(outcome ? { outcome } : {}),
});
const plan = (actions: Action[], findings: Plan['findings'] = []): Plan => ({ actions, conflicts: [], findings });

describe('networkReport', () => {
  const report = (input: Partial<Parameters<typeof networkReport>[0]> & { plan: Plan }) =>
    networkReport({ mode: 'plan', trigger: 'api', stage: 'dev', actions: input.plan.actions, ...input });

  it('does not page for a plan a person asked for', () => {
    expect(report({ plan: plan([action()]) }).notification).toBeUndefined();
  });

  it('alerts on drift the schedule found, with how to apply', () => {
    const drift = report({ trigger: 'schedule', plan: plan([action()]) });
    expect(drift.notification).toMatchObject({ severity: 'warning', check: 'network', cluster: 'gpu-hybrid-cluster' });
    expect(drift.notification?.subject).toBe('[WARNING] network drift: 1 difference(s) from the desired state');
    expect(drift.notification?.message).toContain('POST /reconcile with {"mode": "apply"}');
  });

  it('counts and alerts failed actions, with every outcome', () => {
    const applied = report({
      mode: 'apply',
      plan: plan([action(), action()]),
      actions: [action('done'), action('failed: AccessDeniedException: no')],
    });
    expect(applied.failed).toBe(1);
    expect(applied.counts).toEqual({ done: 1, alreadyDone: 0, failed: 1, skipped: 0, deferred: 0 });
    expect(applied.notification?.subject).toBe('[CRITICAL] 1 of 2 network change(s) failed');
    expect(applied.notification?.message).toContain(
      'Outcomes: 1 done, 0 already so, 1 failed, 0 skipped, 0 still in progress.',
    );
  });

  it('warns about changes still in progress at AWS when the run ended', () => {
    const applied = report({
      mode: 'apply',
      plan: plan([action()]),
      actions: [action('deferred: the association is CREATING after 10 looks 30 s apart; the next run finishes it')],
    });
    expect(applied.failed).toBe(0);
    expect(applied.notification).toMatchObject({
      severity: 'warning',
      subject: '[WARNING] 1 network change(s) still in progress at AWS',
    });
  });

  it('alerts on a critical finding even without changes', () => {
    const finding = {
      cluster: 'c',
      severity: 'critical' as const,
      resource: 'rslvr-in-1',
      message: 'down',
      fix: 'fix it',
    };
    const applied = report({ mode: 'apply', plan: plan([], [finding]) });
    expect(applied.notification?.subject).toBe('[CRITICAL] 1 critical network finding(s)');
  });

  it('cuts long lists in the message and says where they all are', () => {
    const many = Array.from({ length: MAX_DETAILED + 5 }, () => action('failed: ThrottlingException: slow'));
    const applied = report({
      mode: 'apply',
      plan: plan(many),
      actions: many,
      reportUri: 's3://store/runs/x/report.json',
    });
    const lines = applied.notification?.message.split('\n') ?? [];
    expect(lines.filter((l) => l.startsWith('- associate-rule'))).toHaveLength(MAX_DETAILED);
    expect(lines).toContain('- ... and 5 more: every one is in s3://store/runs/x/report.json');
  });
});

describe('forState', () => {
  it('keeps the first 50 of each list and where the whole report is', () => {
    const many = Array.from({ length: 80 }, () => action('done'));
    const whole = networkReport({ mode: 'apply', trigger: 'api', stage: 'dev', plan: plan(many), actions: many });
    const carried = forState(whole, 'runs/reconcile-x/report.json');
    expect(carried).toMatchObject({ actionsTotal: 80, reportKey: 'runs/reconcile-x/report.json' });
    expect(carried.actions).toHaveLength(50);
  });
});

describe('networkFailureReport', () => {
  const failure = {
    Error: 'EmptyDesiredStateError',
    Cause: JSON.stringify({
      errorType: 'EmptyDesiredStateError',
      errorMessage: 'It declares nothing. Fix: Declare the clusters.',
    }),
  };

  it('turns a caught Lambda error into an alert with the fix, and says nothing was changed', () => {
    const report = networkFailureReport({ stage: 'dev', mode: 'apply', failure, step: 'LoadDesiredState' });
    expect(report.error).toBe('EmptyDesiredStateError');
    expect(report.notification.subject).toBe('[CRITICAL] network reconciliation failed: EmptyDesiredStateError');
    expect(report.notification.message).toContain('failed at LoadDesiredState.');
    expect(report.notification.message).toContain('How to fix: Declare the clusters.');
    expect(report.notification.message).toContain('Nothing was changed.');
  });

  it('lists what the run changed before it failed', () => {
    const report = networkFailureReport({
      stage: 'dev',
      mode: 'apply',
      failure: { Error: 'AccessDeniedException', Cause: 'denied' },
      step: 'PublishMountTargets',
      actions: [action('done'), action('skipped: the run ended before it')],
    });
    expect(report.notification.message.split('\n')).toEqual(
      expect.arrayContaining([
        'Before it failed: Outcomes: 1 done, 0 already so, 0 failed, 1 skipped, 0 still in progress.',
        'Changes this run made:',
        '- associate-rule company.local@vpc-0a1b2c3d4e5f60718: company.local is not associated with vpc-0a1b2c3d4e5f60718: associate it => done',
      ]),
    );
  });

  it('says when what the run changed could not be read', () => {
    const report = networkFailureReport({
      stage: 'dev',
      mode: 'apply',
      failure,
      step: 'ApplyNetworkPlan',
      unreadable: 'StoreError: gone',
    });
    expect(report.notification.message).toContain(
      'What it changed before failing could not be read (StoreError: gone)',
    );
  });

  it('as a step: says so, rather than fail, when the run store cannot be opened', async () => {
    const report = await reportNetworkFailure(
      {
        store: () => {
          throw Object.assign(new Error('STORE_BUCKET is empty'), { name: 'StoreError' });
        },
      },
      {
        stage: 'dev',
        mode: 'apply',
        failure,
        step: 'ApplyNetworkPlan',
        runId: '20261130T150000Z-a1b2c3',
        plans: [{ kind: 'resolver', key: 'runs/x/plan-resolver.json', actions: 1, conflicts: 0, findings: 0 }],
      },
    );
    expect(report.notification.message).toContain(
      'What it changed before failing could not be read (StoreError: STORE_BUCKET is empty)',
    );
  });
});

describe('failedStep', () => {
  it.each([
    [{}, 'LoadDesiredState'],
    [{ loaded: {} }, 'Plan'],
    [{ mode: 'apply', loaded: {}, plans: [] }, 'ApplyNetworkPlan'],
    [{ mode: 'apply', loaded: {}, plans: [], applied: { next: 'wait' as const } }, 'ApplyNetworkPlan'],
    [{ mode: 'apply', loaded: {}, plans: [], applied: { next: 'done' as const } }, 'PublishMountTargets'],
    [{ mode: 'plan', loaded: {}, plans: [] }, 'ReportNetwork'],
  ])('%j failed at %s', (state, step) => {
    expect(failedStep(state)).toBe(step);
  });
});

describe('startReconcile (POST /reconcile)', () => {
  const deps = () => ({
    sfn: new SFNClient({ region: 'ap-northeast-2' }),
    stateMachineArn: 'arn:aws:states:ap-northeast-2:111122223333:stateMachine:r',
  });

  it.each([['{"mode":"delete"}'], ['not json'], ['{"mode":1}']])(
    'answers 400 to %s and starts nothing',
    async (body) => {
      const answer = await startReconcile(deps(), { body, requester: 'arn:aws:iam::111122223333:user/alice' });
      expect(answer.statusCode).toBe(400);
      expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
    },
  );

  it('starts an execution in the asked mode', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:ap-northeast-2:111122223333:execution:r:x' });
    const answer = await startReconcile(deps(), {
      body: '{"mode":"apply"}',
      requester: 'arn:aws:iam::111122223333:user/alice',
    });
    expect(answer.statusCode).toBe(202);
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.input ?? '{}')).toEqual({
      mode: 'apply',
      trigger: 'api',
      requester: 'arn:aws:iam::111122223333:user/alice',
    });
    expect(input?.name).toMatch(/^apply-\d{4}-\d\d-\d\dT[\d-]+Z-[0-9a-f]{8}$/);
  });
});

describe('CheckResolution outside the cluster VPC', () => {
  it('checks nothing and says why, as an info finding (no page)', async () => {
    const { run } = await import('#functions/reconcile-network/check-resolution');
    const desired = dnsCheckDesiredState();
    const runtime = { settings: { resolutionChecks: false } } as unknown as Parameters<typeof run>[1];
    const answer = await run({ desired }, runtime);
    expect(answer).toEqual({
      checks: [],
      findings: [expect.objectContaining({ cluster: 'gpu-hybrid-cluster', severity: 'info', resource: 'dns-checks' })],
    });
  });
});
