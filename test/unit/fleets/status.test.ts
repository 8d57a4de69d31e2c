import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { FleetInput } from '#lib/fleets/state';
import { getFleet, getFleetNodeConfigs } from '#lib/fleets/status';
import { memoryStore } from '#test/helpers/memory-store';

const REGION = 'ap-northeast-2';
const ACCOUNT = '111122223333';
const FLEET_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:onboard-fleet-test`;
const NODE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:onboard-node-test`;
const FLEET = 'fleet-poc-0123456789ab';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const settings = {
  fleetStateMachineArn: FLEET_MACHINE,
  onboardStateMachineArn: NODE_MACHINE,
  parameterPrefix: '/eks-hybrid-ops/test',
};
const fleetArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:onboard-fleet-test:${FLEET}`;
const childArn = (id: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:onboard-node-test:${id}`;

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 's' };
const sfnClient = new SFNClient({ region: REGION, credentials });
const ssmClient = new SSMClient({ region: REGION, credentials });

function fleetInput(n: number): FleetInput {
  return {
    fleetId: FLEET,
    requester: ALICE,
    requestDigest: 'd',
    cluster: 'gpu-hybrid-cluster',
    manifestKey: `fleets/${FLEET}/manifest.json`,
    resultKey: `fleets/${FLEET}/result.json`,
    maxConcurrency: 10,
    members: Array.from({ length: n }, (_, i) => ({
      index: i,
      name: `gpu-node-${i + 1}`,
      requestId: `gpu-node-${i + 1}-r`,
    })),
  };
}

beforeEach(() => {
  sfn.reset();
  ssm.reset();
});

describe('GET /fleets/{fleetId}', () => {
  it('after the end, answers from the stored result with one read and no child reads', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: fleetArn }).resolves({
      status: 'FAILED',
      error: 'FleetIncompleteError',
      input: JSON.stringify(fleetInput(10)),
      startDate: new Date('2026-11-22T00:00:00Z'),
      stopDate: new Date('2026-11-22T01:00:00Z'),
    });
    const { store } = memoryStore({
      [`fleets/${FLEET}/result.json`]: {
        status: 'failed',
        headline: '9 of 10',
        counts: { failed: 1 },
        nodes: [{ name: 'x' }],
      },
    });
    const reads: string[] = [];
    const answer = await getFleet(
      {
        sfn: sfnClient,
        store: { ...store, getJson: (k) => (reads.push(k), store.getJson(k)) },
        settings,
      },
      FLEET,
    );
    expect(answer).toMatchObject({ status: 'FAILED', error: 'FleetIncompleteError', phase: 'done', outcome: 'failed' });
    expect(reads).toEqual([`fleets/${FLEET}/result.json`]);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
  });

  it('while it runs, reads each server as GET /nodes does: not started, running (its phase), ended', async () => {
    sfn
      .on(DescribeExecutionCommand, { executionArn: fleetArn })
      .resolves({ status: 'RUNNING', input: JSON.stringify(fleetInput(3)), startDate: new Date() });
    sfn.on(DescribeExecutionCommand, { executionArn: childArn('gpu-node-1-r') }).resolves({
      status: 'SUCCEEDED',
      output: JSON.stringify({ brief: { status: 'warning', instanceId: 'mi-1' } }),
    });
    sfn.on(DescribeExecutionCommand, { executionArn: childArn('gpu-node-2-r') }).resolves({ status: 'RUNNING' });
    sfn
      .on(DescribeExecutionCommand, { executionArn: childArn('gpu-node-3-r') })
      .rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'no' }));
    sfn.on(GetExecutionHistoryCommand, { executionArn: childArn('gpu-node-2-r') }).resolves({
      events: [
        {
          id: 9,
          timestamp: new Date(),
          type: 'TaskStateExited' as const,
          stateExitedEventDetails: { name: 'RenderNodeConfig', output: JSON.stringify({ nodeConfig: {} }) },
        },
        {
          id: 10,
          timestamp: new Date(),
          type: 'WaitStateEntered' as const,
          stateEnteredEventDetails: { name: 'WaitForRegistration' },
        },
      ].reverse(),
    });
    const answer = await getFleet({ sfn: sfnClient, store: memoryStore().store, settings }, FLEET);
    expect(answer).toMatchObject({
      phase: 'onboarding',
      counts: { servers: 3, waiting: 1, running: 1, joined: 0, warning: 1, failed: 0 },
      nodes: [
        { name: 'gpu-node-1', status: 'warning', nodeName: 'mi-1' },
        { name: 'gpu-node-2', status: 'running', phase: 'waiting-for-registration', nodeConfigReady: true },
        { name: 'gpu-node-3', status: 'waiting', phase: 'not-started' },
      ],
    });
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
  });

  it('refuses an id that is not a fleet id, and answers 404 for none', async () => {
    await expect(
      getFleet({ sfn: sfnClient, store: memoryStore().store, settings }, 'gpu-node-01'),
    ).rejects.toMatchObject({
      name: 'RequestRejectedError',
    });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'no' }));
    await expect(getFleet({ sfn: sfnClient, store: memoryStore().store, settings }, FLEET)).rejects.toMatchObject({
      name: 'RequestNotFoundError',
    });
  });
});

describe('GET /fleets/{fleetId}/nodeconfigs', () => {
  const handout = (id: string) => ({ nodeConfig: `config of ${id}`, commands: ['nodeadm install', 'nodeadm init'] });

  it('gives the requester every ready NodeConfig, reading them ten at a time with decryption', async () => {
    sfn
      .on(DescribeExecutionCommand, { executionArn: fleetArn })
      .resolves({ status: 'RUNNING', input: JSON.stringify(fleetInput(12)) });
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
      Parameters: input.Names.filter((n) => !n.includes('gpu-node-7-r')).map((Name) => ({
        Name,
        Value: JSON.stringify(handout(Name)),
      })),
      InvalidParameters: input.Names.filter((n) => n.includes('gpu-node-7-r')),
    }));
    const answer = await getFleetNodeConfigs(
      { sfn: sfnClient, ssm: ssmClient, settings },
      FLEET,
      `arn:aws:sts::${ACCOUNT}:assumed-role/alice/session`,
    ).catch((e) => e);
    // An assumed-role session of another principal is refused (alice is a user here).
    expect(answer).toMatchObject({ name: 'NotRequesterError' });

    const mine = await getFleetNodeConfigs({ sfn: sfnClient, ssm: ssmClient, settings }, FLEET, ALICE);
    expect(ssm.commandCalls(GetParametersCommand).map((c) => c.args[0].input)).toEqual([
      {
        Names: Array.from({ length: 10 }, (_, i) => `/eks-hybrid-ops/test/onboarding/gpu-node-${i + 1}-r/node-config`),
        WithDecryption: true,
      },
      {
        Names: [11, 12].map((i) => `/eks-hybrid-ops/test/onboarding/gpu-node-${i}-r/node-config`),
        WithDecryption: true,
      },
    ]);
    expect((mine.nodeConfigs as unknown[]).length).toBe(11);
    expect(mine.pending).toEqual([{ name: 'gpu-node-7', requestId: 'gpu-node-7-r' }]);
    expect((mine.nodeConfigs as Array<Record<string, unknown>>)[0]).toMatchObject({
      name: 'gpu-node-1',
      requestId: 'gpu-node-1-r',
      fileName: 'nodeConfig.yaml',
      commands: ['nodeadm install', 'nodeadm init'],
    });
  });

  it('refuses after the fleet has ended (410) and reads no parameter', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: JSON.stringify(fleetInput(2)) });
    await expect(getFleetNodeConfigs({ sfn: sfnClient, ssm: ssmClient, settings }, FLEET, ALICE)).rejects.toMatchObject(
      { name: 'OnboardingEndedError' },
    );
    expect(ssm).not.toHaveReceivedCommand(GetParametersCommand);
  });
});
