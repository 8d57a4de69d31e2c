import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ClientTokenReusedError, RequestNotFoundError, RequestRejectedError } from '#lib/errors';
import type { NodeOutcome, PlannedNode, UpgradeInput, UpgradePlan } from '#lib/upgrades/state';
import { upgradeKeys } from '#lib/upgrades/state';
import { getUpgrade } from '#lib/upgrades/status';
import { submitUpgrade, upgradeExecutionInput } from '#lib/upgrades/submit';
import { memoryStore } from '#test/helpers/memory-store';

const REGION = 'ap-northeast-2';
const CLUSTER = 'gpu-hybrid-cluster';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:upgrade-nodes-test`;
const REQUESTER = 'arn:aws:iam::111122223333:user/alice';
const eksMock = mockClient(EKSClient);
const sfnMock = mockClient(SFNClient);

const settings = {
  clusterName: CLUSTER,
  upgradeStateMachineArn: STATE_MACHINE_ARN,
  parameterPrefix: '/eks-hybrid-ops/test',
  region: REGION,
};
const deps = () => ({
  clients: { sfn: new SFNClient({ region: REGION }), eks: new EKSClient({ region: REGION }) },
  settings,
});
const submit = (body: Record<string, unknown>) =>
  submitUpgrade(deps(), { body: JSON.stringify(body), requester: REQUESTER, baseUrl: 'https://api.example/test' });
const startedInput = (call = 0) =>
  JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[call]?.args[0].input.input ?? '{}') as UpgradeInput;

beforeEach(() => {
  eksMock.reset();
  sfnMock.reset();
  eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, status: 'ACTIVE', version: '1.33' } });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
});

describe('submitUpgrade', () => {
  it("defaults to the cluster's version, every hybrid node below it, one at a time, no force, 10 minutes to drain", async () => {
    const answer = await submit({ cluster: CLUSTER });

    expect(answer).toMatchObject({ existing: false, cluster: CLUSTER, kubernetesVersion: '1.33' });
    expect(answer.upgradeId).toMatch(/^upgrade-1-33-[0-9a-f]{12}$/);
    expect(answer.statusUrl).toBe(`https://api.example/test/upgrades/${answer.upgradeId}`);
    const input = startedInput();
    expect(input).toMatchObject({
      upgradeId: answer.upgradeId,
      requester: REQUESTER,
      request: {
        cluster: CLUSTER,
        kubernetesVersion: '1.33',
        maxUnavailable: 1,
        force: false,
        drainTimeoutSeconds: 600,
      },
      resources: { lockPath: '/eks-hybrid-ops/test/locks/gpu-hybrid-cluster' },
    });
    expect(input.request.nodes).toBeUndefined();
    expect(input.request.selector).toBeUndefined();
    // The last-resort alert's commands find what a run may have left.
    expect(input.resources.manualCheck).toContain('kubectl get nodes -o wide | grep SchedulingDisabled');
    expect(input.resources.manualCheck).toContain(
      `--path /eks-hybrid-ops/test/locks/gpu-hybrid-cluster --query "Parameters[?contains(Value, '${answer.upgradeId}')].Name"`,
    );
  });

  it('gives two submissions without a token two upgrades', async () => {
    const a = await submit({ cluster: CLUSTER });
    const b = await submit({ cluster: CLUSTER });
    expect(a.upgradeId).not.toBe(b.upgradeId);
  });

  it('answers a retried POST (same token and body) with the same upgrade, starting nothing new', async () => {
    const body = { cluster: CLUSTER, clientToken: 'roll-1', selector: 'gpu=h100', maxUnavailable: 2 };
    const first = await submit(body);
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
    sfnMock.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(startedInput()) });

    const again = await submit(body);
    expect(again).toMatchObject({ upgradeId: first.upgradeId, existing: true });

    // The same token with another body is a conflict, not the same upgrade.
    await expect(submit({ ...body, maxUnavailable: 3 })).rejects.toBeInstanceOf(ClientTokenReusedError);
  });

  it('refuses a target newer than the control plane, saying how to fix it', async () => {
    const refused = submit({ cluster: CLUSTER, kubernetesVersion: '1.34' });
    await expect(refused).rejects.toBeInstanceOf(RequestRejectedError);
    await expect(refused).rejects.toMatchObject({
      details: {
        problems: [
          {
            field: 'kubernetesVersion',
            message: expect.stringContaining(
              'upgrade the control plane first (aws eks update-cluster-version --name gpu-hybrid-cluster --kubernetes-version 1.34)',
            ),
          },
        ],
      },
    });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('getUpgrade', () => {
  const UPGRADE_ID = 'upgrade-1-33-0123456789ab';
  const planned = (name: string, wave: number): PlannedNode => ({
    nodeName: `mi-0a2b4c6d8e0f1234${wave}`,
    name,
    instanceId: `mi-0a2b4c6d8e0f1234${wave}`,
    lockParameter: `/eks-hybrid-ops/test/locks/${CLUSTER}/${name}`,
    from: 'v1.31.4-eks-1234567',
    wave,
  });
  const plan = (): UpgradePlan => ({
    cluster: CLUSTER,
    clusterArn: 'arn:aws:eks:ap-northeast-2:111122223333:cluster/gpu-hybrid-cluster',
    controlPlaneVersion: '1.33',
    target: '1.33',
    access: { name: CLUSTER, region: REGION, endpoint: 'https://x', certificateAuthority: '' },
    plannedAt: '2026-11-22T00:00:00.000Z',
    key: upgradeKeys(UPGRADE_ID).plan,
    waves: [[planned('a', 0)], [planned('b', 1)], [planned('c', 2)]],
    waveCount: 3,
    toUpgrade: 3,
    skipped: [
      { name: 'd', nodeName: 'mi-0a2b4c6d8e0f12349', reason: 'offline', detail: 'its SSM agent is ConnectionLost' },
    ],
    skippedCount: 1,
    atTarget: 0,
  });
  const upgraded = (n: PlannedNode): NodeOutcome => ({
    nodeName: n.nodeName,
    name: n.name,
    wave: n.wave,
    outcome: 'upgraded',
    from: n.from,
    to: 'v1.33.1-eks-1',
    detail: 'Upgraded.',
    cordoned: false,
  });
  const input = () => upgradeExecutionInput({ request: { cluster: CLUSTER }, target: '1.33' }, REQUESTER, settings);
  const get = (store = memoryStore().store) =>
    getUpgrade({ sfn: new SFNClient({ region: REGION }), store, settings }, UPGRADE_ID);

  it('while it runs: each node upgraded, being upgraded, waiting, or skipped with why', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'RUNNING',
      startDate: new Date('2026-11-22T00:00:00Z'),
      input: JSON.stringify(input()),
    });
    const p = plan();
    const { store } = memoryStore({
      [p.key]: p,
      [upgradeKeys(UPGRADE_ID).wave(0)]: [upgraded(p.waves[0]?.[0] as PlannedNode)],
    });

    const answer = await get(store);

    expect(answer).toMatchObject({ upgradeId: UPGRADE_ID, status: 'RUNNING', phase: 'upgrading', wave: '2 of 3' });
    expect((answer.nodes as Array<{ name: string; state: string }>).map((n) => [n.name, n.state])).toEqual([
      ['a', 'upgraded'],
      ['b', 'upgrading'],
      ['c', 'pending'],
      ['d', 'skipped'],
    ]);
  });

  it('before the plan: planning; once reported: the report', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify(input()) });
    expect(await get()).toMatchObject({ phase: 'planning', nodes: [] });

    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'UpgradeStoppedError',
      input: JSON.stringify(input()),
    });
    const report = { outcome: 'stopped', counts: { upgraded: 1, failed: 1, skipped: 0, untouched: 1 }, nodes: [] };
    const { store } = memoryStore({ [upgradeKeys(UPGRADE_ID).report]: report });
    expect(await get(store)).toMatchObject({
      status: 'FAILED',
      error: 'UpgradeStoppedError',
      phase: 'done',
      outcome: 'stopped',
      counts: report.counts,
    });
  });

  it('refuses an id that is not one, and one that does not exist', async () => {
    await expect(
      getUpgrade({ sfn: new SFNClient({ region: REGION }), store: memoryStore().store, settings }, 'Not An Id'),
    ).rejects.toBeInstanceOf(RequestRejectedError);
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'no' }));
    await expect(get()).rejects.toBeInstanceOf(RequestNotFoundError);
  });
});
