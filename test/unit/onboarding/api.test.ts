import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  GetServiceSettingCommand,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { OnboardingRequestBody } from '#lib/onboarding/request';
import type { OnboardingState } from '#lib/onboarding/state';
import { HISTORY_PAGES } from '#lib/executions';
import { PHASE_OF_STATE, phaseOfState, principalOf } from '#lib/onboarding/status';
import { nodeadmCommands } from '#lib/onboarding/node-config';
import { getNodeConfig, getOnboarding, submitOnboarding } from '#test/helpers/api-answer';
import {
  activationResult,
  eksCluster,
  gpuRequestBody,
  INSTANCE_ID,
  NODE_CONFIG_PARAMETER,
  nodeConfigResult,
  onboardingInput,
  preflightResult,
  REQUEST_ID,
  REQUESTER,
  registeredInstances,
  registeredState,
  STATE_MACHINE_ARN,
  seedVpcs,
  settings,
  ssmTier,
} from '#test/helpers/onboarding-fixtures';

const sfnMock = mockClient(SFNClient);
const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);

const BASE_URL = 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/test';
const STARTED = new Date('2026-11-22T00:00:00Z');
const executionArnOf = (requestId: string) =>
  `arn:aws:states:ap-northeast-2:111122223333:execution:onboard-node-test:${requestId}`;

beforeEach(() => {
  sfnMock.reset();
  eksMock.reset();
  ec2Mock.reset();
  ssmMock.reset();
});

describe('submitOnboarding', () => {
  const deps = () => ({
    clients: {
      sfn: new SFNClient({ region: 'ap-northeast-2' }),
      eks: new EKSClient({ region: 'ap-northeast-2' }),
      ec2: new EC2Client({ region: 'ap-northeast-2' }),
      ssm: new SSMClient({ region: 'ap-northeast-2' }),
    },
    settings: settings(),
  });
  const submit = (body: OnboardingRequestBody | string) =>
    submitOnboarding(deps(), {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      requester: REQUESTER,
      baseUrl: BASE_URL,
    });
  /** The request id the API must derive: node name, then a hash of cluster and client token. */
  const requestIdFor = (token: string) =>
    `${token}-${createHash('sha256').update(`gpu-hybrid-cluster\n${token}`).digest('hex').slice(0, 12)}`;
  const startInputs = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

  function arrangeCluster(registered = 3) {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: eksCluster() });
    ec2Mock.on(DescribeVpcsCommand).resolves(seedVpcs());
    ssmMock.on(GetServiceSettingCommand).resolves(ssmTier());
    ssmMock.on(DescribeInstanceInformationCommand).resolves(registeredInstances(registered));
  }

  it('starts the execution named by the request id and answers 202 with where to look', async () => {
    arrangeCluster();
    const requestId = requestIdFor('gpu-node-01-poc-1');
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArnOf(requestId), startDate: STARTED });
    const body = { ...gpuRequestBody(), node: { ...gpuRequestBody().node, os: 'Ubuntu 22.04' } };

    const answer = await submit(body);

    expect(answer).toEqual({
      statusCode: 202,
      body: {
        requestId,
        executionArn: executionArnOf(requestId),
        existing: false,
        statusUrl: `${BASE_URL}/nodes/${requestId}`,
        nodeConfigUrl: `${BASE_URL}/nodes/${requestId}/nodeconfig`,
      },
      headers: { location: `${BASE_URL}/nodes/${requestId}` },
    });
    expect(startInputs()).toEqual([{ stateMachineArn: STATE_MACHINE_ARN, name: requestId, input: expect.any(String) }]);
    expect(JSON.parse(startInputs()[0]?.input ?? '{}')).toEqual({
      requestId,
      requester: REQUESTER,
      requestDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      // The request as validated: the OS normalised, nothing else changed.
      request: { ...gpuRequestBody(), node: { ...gpuRequestBody().node, os: 'ubuntu-22.04' } },
      // Where its own resources will be, for the last-resort alerts that no Lambda builds.
      resources: {
        lockParameter: '/eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-01',
        parameterPath: `/eks-hybrid-ops/test/onboarding/${requestId}`,
        manualCleanup: {
          afterJoin: expect.stringContaining(
            'aws ssm delete-parameter --region ap-northeast-2 --name /eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-01',
          ),
          afterFailure: expect.stringContaining(`kubectl get nodes -l hybridops.io/request-id=${requestId}`),
        },
      },
    });
  });

  it('answers a retried POST (same token, same body) 202 with the existing execution', async () => {
    arrangeCluster();
    const requestId = requestIdFor('gpu-node-01-poc-1');
    sfnMock
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: executionArnOf(requestId), startDate: STARTED })
      .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: `Execution Already Exists: '${requestId}'` }));
    await submit(gpuRequestBody());
    const firstInput = startInputs()[0]?.input;
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: executionArnOf(requestId),
      stateMachineArn: STATE_MACHINE_ARN,
      status: 'RUNNING',
      startDate: STARTED,
      input: firstInput,
    });

    const answer = await submit(gpuRequestBody());

    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ requestId, executionArn: executionArnOf(requestId), existing: true });
    expect(startInputs().map((i) => i.input)).toEqual([firstInput, firstInput]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: executionArnOf(requestId) },
    ]);
  });

  it('answers 409 to the same token with a different body, starting nothing new', async () => {
    arrangeCluster();
    const requestId = requestIdFor('gpu-node-01-poc-1');
    sfnMock
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: executionArnOf(requestId), startDate: STARTED })
      .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
    await submit(gpuRequestBody());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: startInputs()[0]?.input });

    const answer = await submit({ ...gpuRequestBody(), node: { ...gpuRequestBody().node, ip: '192.168.10.32' } });

    expect(answer).toEqual({
      statusCode: 409,
      body: {
        message: `clientToken 'gpu-node-01-poc-1' was already used for a different request (${requestId}); nothing was started.`,
        requestId,
        fix: 'Use a new clientToken for a new request, or send exactly the same body to retry.',
      },
    });
  });

  it("answers 400 for a cluster that is not this stage's, asking AWS nothing", async () => {
    arrangeCluster();

    const answer = await submit({ ...gpuRequestBody(), cluster: 'other-cluster' });

    expect(answer).toEqual({
      statusCode: 400,
      body: {
        message: 'The onboarding request has 1 problem(s); nothing was started.',
        problems: [{ field: 'cluster', message: "this deployment onboards nodes into 'gpu-hybrid-cluster' only" }],
      },
    });
    expect(eksMock).not.toHaveReceivedCommand(DescribeClusterCommand);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('answers 400 listing every way the node does not fit the cluster', async () => {
    arrangeCluster();

    const answer = await submit({
      ...gpuRequestBody(),
      node: { ...gpuRequestBody().node, ip: '172.16.5.10' },
      kubernetesVersion: '1.34',
    });

    expect(answer.statusCode).toBe(400);
    expect((answer.body.problems as Array<{ field: string }>).map((p) => p.field)).toEqual([
      'node.ip',
      'kubernetesVersion',
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it("refuses a node that would pass SSM's standard tier (1,000 registered) with 400 and the fix, starting nothing", async () => {
    arrangeCluster(1000);

    const answer = await submit(gpuRequestBody());

    expect(answer.statusCode).toBe(400);
    expect(answer.body.problems).toEqual([
      {
        field: 'node',
        message: expect.stringContaining(
          "SSM's standard tier allows 1,000 on-prem managed instances per account and Region; 1,000 are registered, so no more can join",
        ),
      },
    ]);
    expect(JSON.stringify(answer.body.problems)).toContain(
      'aws ssm update-service-setting --setting-id arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier --setting-value advanced',
    );
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ssmMock).toHaveReceivedCommandWith(GetServiceSettingCommand, {
      SettingId: '/ssm/managed-instance/activation-tier',
    });
    expect(ssmMock).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'ResourceType', Values: ['ManagedInstance'] }],
      MaxResults: 50,
    });
  });

  it('starts the 1,000th on-prem instance (999 registered)', async () => {
    arrangeCluster(999);
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArnOf('x'), startDate: STARTED });

    expect((await submit(gpuRequestBody())).statusCode).toBe(202);
  });

  it('lists the quota beside the cluster-fit problems', async () => {
    arrangeCluster(1000);

    const answer = await submit({ ...gpuRequestBody(), kubernetesVersion: '1.34' });

    expect((answer.body.problems as Array<{ field: string }>).map((p) => p.field)).toEqual([
      'kubernetesVersion',
      'node',
    ]);
  });

  it('answers 400 when the cluster does not exist', async () => {
    eksMock.on(DescribeClusterCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'No cluster' }));

    const answer = await submit(gpuRequestBody());

    expect(answer.statusCode).toBe(400);
    expect(answer.body.problems).toEqual([
      { field: 'cluster', message: expect.stringContaining("EKS cluster 'gpu-hybrid-cluster' does not exist") },
    ]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const answer = await submit('{"cluster": ');

    expect(answer.statusCode).toBe(400);
    expect(answer.body.problems).toEqual([{ field: '(body)', message: expect.stringContaining('not JSON') }]);
  });
});

describe('getOnboarding', () => {
  const deps = () => ({ sfn: new SFNClient({ region: 'ap-northeast-2' }), settings: settings() });
  const describeInputs = () => sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input);
  const stateJson = (state: OnboardingState) => JSON.stringify(state);

  it('answers 404 for a request that never started', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'Execution Does Not Exist' }));

    const answer = await getOnboarding(deps(), REQUEST_ID);

    expect(answer).toEqual({
      statusCode: 404,
      body: {
        message: `No onboarding request '${REQUEST_ID}' exists.`,
        fix: 'Use the requestId that POST /nodes returned.',
      },
    });
    expect(describeInputs()).toEqual([{ executionArn: executionArnOf(REQUEST_ID) }]);
  });

  it('answers 400 for something that cannot be a request id, asking AWS nothing', async () => {
    const answer = await getOnboarding(deps(), 'GPU_Node/../x');

    expect(answer.statusCode).toBe(400);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('has a phase for every state a running onboarding can be in', () => {
    const asl = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', 'statemachines', 'onboard-node.asl.json'), 'utf8'),
    ) as { States: Record<string, { Type: string }> };
    const running = Object.entries(asl.States)
      .filter(([, state]) => state.Type !== 'Fail' && state.Type !== 'Succeed')
      .map(([name]) => name);

    expect(running.filter((name) => !PHASE_OF_STATE[name])).toEqual([]);
    expect(Object.keys(PHASE_OF_STATE).filter((name) => !running.includes(name))).toEqual([]);
  });

  it('has a phase for every state of the previous definition, which executions started before a deploy run', () => {
    const asl = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'fixtures', 'onboard-node.previous.asl.json'), 'utf8'),
    ) as { States: Record<string, { Type: string }> };
    const running = Object.entries(asl.States)
      .filter(([, state]) => state.Type !== 'Fail' && state.Type !== 'Succeed')
      .map(([name]) => name);

    expect(running.filter((name) => !phaseOfState(name))).toEqual([]);
    expect(phaseOfState('Finish')).toBe('finishing');
    expect(phaseOfState('CleanUp')).toBe('cleaning-up-after-failure');
  });

  it('reads the phase of a running onboarding from the newest history events', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
    const events: HistoryEvent[] = [
      {
        id: 20,
        timestamp: STARTED,
        type: 'WaitStateEntered',
        stateEnteredEventDetails: { name: 'WaitForRegistration' },
      },
      {
        id: 19,
        timestamp: STARTED,
        type: 'ChoiceStateExited',
        stateExitedEventDetails: { name: 'IsRegistered', output: '{}' },
      },
      { id: 18, timestamp: STARTED, type: 'ChoiceStateEntered', stateEnteredEventDetails: { name: 'IsRegistered' } },
      {
        id: 17,
        timestamp: STARTED,
        type: 'TaskStateExited',
        stateExitedEventDetails: {
          name: 'CheckRegistration',
          output: stateJson({
            ...onboardingInput(),
            preflight: preflightResult(),
            activation: activationResult(),
            nodeConfig: nodeConfigResult(),
            registration: { registered: false, attempt: 2, nextWaitSeconds: 60 },
          }),
        },
      },
      {
        id: 9,
        timestamp: STARTED,
        type: 'TaskStateExited',
        stateExitedEventDetails: { name: 'IssueActivation', output: stateJson({ ...onboardingInput() }) },
      },
    ];
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events });

    const answer = await getOnboarding(deps(), REQUEST_ID);

    expect(answer).toEqual({
      statusCode: 200,
      body: {
        requestId: REQUEST_ID,
        status: 'RUNNING',
        startedAt: '2026-11-22T00:00:00.000Z',
        phase: 'waiting-for-registration',
        nodeConfigReady: true,
      },
    });
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: executionArnOf(REQUEST_ID), reverseOrder: true, maxResults: 50 },
    ]);
  });

  it('reads on to older pages of history until it finds the last Task output', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
    const tokens: Array<string | undefined> = [];
    sfnMock.on(GetExecutionHistoryCommand).callsFake((request: { nextToken?: string }) => {
      tokens.push(request.nextToken);
      if (request.nextToken === undefined) {
        // A page that holds fewer events than asked, and no Task output (Step Functions says a
        // page may hold fewer than maxResults).
        return {
          events: [
            { id: 90, timestamp: STARTED, type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'WaitForNode' } },
          ],
          nextToken: 'older',
        };
      }
      return {
        events: [
          {
            id: 80,
            timestamp: STARTED,
            type: 'TaskStateExited',
            stateExitedEventDetails: {
              name: 'CheckNode',
              output: stateJson({
                ...onboardingInput(),
                nodeConfig: nodeConfigResult(),
                registration: registeredState(),
                node: { settled: false, phase: 'pending', attempt: 1, nextWaitSeconds: 15 },
              }),
            },
          },
        ],
      };
    });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(tokens).toEqual([undefined, 'older']);
    expect(body).toMatchObject({ phase: 'waiting-for-node', nodeConfigReady: true, instanceId: INSTANCE_ID });
  });

  it(`stops after ${HISTORY_PAGES} pages of history without a Task output`, async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
    let pages = 0;
    sfnMock.on(GetExecutionHistoryCommand).callsFake(() => {
      pages += 1;
      return {
        events: [{ id: 1000 - pages, timestamp: STARTED, type: 'MapIterationStarted' }],
        nextToken: `page-${pages + 1}`,
      };
    });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(pages).toBe(HISTORY_PAGES);
    expect(body).toMatchObject({ phase: 'starting', nodeConfigReady: false });
  });

  it('shows the instance and the CNI hint while waiting for the Node', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
    const hint = 'Install Cilium or Calico.';
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 40, timestamp: STARTED, type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'WaitForNode' } },
        {
          id: 38,
          timestamp: STARTED,
          type: 'TaskStateExited',
          stateExitedEventDetails: {
            name: 'CheckNode',
            output: stateJson({
              ...onboardingInput(),
              nodeConfig: nodeConfigResult(),
              registration: registeredState(),
              node: { settled: false, phase: 'pending', attempt: 3, nextWaitSeconds: 40, hint },
            }),
          },
        },
      ],
    });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(body).toMatchObject({ phase: 'waiting-for-node', nodeConfigReady: true, instanceId: INSTANCE_ID, hint });
  });

  it('says starting before any state has run', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ id: 1, timestamp: STARTED, type: 'ExecutionStarted' }] });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(body).toMatchObject({ phase: 'starting', nodeConfigReady: false });
  });

  it('gives the result of a finished onboarding without its notification', async () => {
    const summary = { outcome: 'joined', requestId: REQUEST_ID, instanceId: INSTANCE_ID, timings: { total: 880 } };
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      startDate: STARTED,
      stopDate: new Date('2026-11-22T00:14:41Z'),
      output: JSON.stringify({ ...summary, notification: { subject: '[OK] ...', message: '...' } }),
    });

    const answer = await getOnboarding(deps(), REQUEST_ID);

    expect(answer).toEqual({
      statusCode: 200,
      body: {
        requestId: REQUEST_ID,
        status: 'SUCCEEDED',
        startedAt: '2026-11-22T00:00:00.000Z',
        stoppedAt: '2026-11-22T00:14:41.000Z',
        phase: 'done',
        outcome: 'joined',
        result: summary,
      },
    });
    expect(sfnMock).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)(
    'gives the error and cause of a %s onboarding',
    async (status) => {
      const cause =
        'Failed at WaitForRegistration with RegistrationTimeoutError: No server registered. Fix: Run nodeadm.';
      sfnMock.on(DescribeExecutionCommand).resolves({
        status,
        startDate: STARTED,
        stopDate: new Date('2026-11-23T00:00:30Z'),
        error: 'RegistrationTimeoutError',
        cause,
      });

      const { body } = await getOnboarding(deps(), REQUEST_ID);

      expect(body).toEqual({
        requestId: REQUEST_ID,
        status,
        startedAt: '2026-11-22T00:00:00.000Z',
        stoppedAt: '2026-11-23T00:00:30.000Z',
        phase: 'failed',
        error: 'RegistrationTimeoutError',
        cause,
      });
    },
  );

  it('gives the result of an onboarding that joined but could not alert, with a warning', async () => {
    const summary = { outcome: 'joined', requestId: REQUEST_ID, instanceId: INSTANCE_ID };
    const message = `Node ${INSTANCE_ID} joined, but the alert could not be delivered (SNS.InternalErrorException).`;
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      startDate: STARTED,
      error: 'AlertDeliveryError',
      cause: JSON.stringify({ message, result: { ...summary, notification: { subject: '[OK] ...' } } }),
    });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(body).toMatchObject({
      status: 'FAILED',
      phase: 'done',
      result: summary,
      alertDelivered: false,
      warning: message,
    });
  });

  it('gives the original error of a failed onboarding that could not alert', async () => {
    const report = {
      error: 'RegistrationTimeoutError',
      summary: 'Failed at WaitForRegistration with RegistrationTimeoutError.',
    };
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      startDate: STARTED,
      error: 'AlertDeliveryError',
      cause: JSON.stringify({ message: 'could not alert', report }),
    });

    const { body } = await getOnboarding(deps(), REQUEST_ID);

    expect(body).toMatchObject({ phase: 'failed', error: report.error, cause: report.summary, alertDelivered: false });
  });
});

describe('getNodeConfig', () => {
  const deps = () => ({
    sfn: new SFNClient({ region: 'ap-northeast-2' }),
    ssm: new SSMClient({ region: 'ap-northeast-2' }),
    settings: settings(),
  });
  const running = () => ({ status: 'RUNNING' as const, startDate: STARTED, input: JSON.stringify(onboardingInput()) });

  it('answers 403 to anyone but the identity that submitted the request, reading no secret', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(running());

    const answer = await getNodeConfig(deps(), REQUEST_ID, 'arn:aws:iam::111122223333:user/mallory');

    expect(answer.statusCode).toBe(403);
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
  });

  it('counts any session of the submitting role as that role', async () => {
    const input = { ...onboardingInput(), requester: 'arn:aws:sts::111122223333:assumed-role/PlatformTeam/ci-run-1' };
    sfnMock.on(DescribeExecutionCommand).resolves({ ...running(), input: JSON.stringify(input) });
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: JSON.stringify({ nodeConfig: 'x', commands: [] }) } });

    const answer = await getNodeConfig(deps(), REQUEST_ID, 'arn:aws:sts::111122223333:assumed-role/PlatformTeam/alice');

    expect(answer.statusCode).toBe(200);
    expect(principalOf('arn:aws:sts::111122223333:assumed-role/PlatformTeam/alice')).toBe(
      'arn:aws:iam::111122223333:role/PlatformTeam',
    );
  });

  it('answers 404 for a request that never started', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'no' }));

    await expect(getNodeConfig(deps(), REQUEST_ID, REQUESTER)).resolves.toMatchObject({ statusCode: 404 });
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
  });

  it('answers 409 with retry-after while the NodeConfig is not issued yet', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(running());
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'not found' }));

    const answer = await getNodeConfig(deps(), REQUEST_ID, REQUESTER);

    expect(answer).toMatchObject({ statusCode: 409, headers: { 'retry-after': '10' } });
    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: NODE_CONFIG_PARAMETER, WithDecryption: true },
    ]);
  });

  it.each(['SUCCEEDED', 'FAILED'] as const)(
    'answers 410 once the onboarding has ended (%s), reading no secret',
    async (status) => {
      sfnMock.on(DescribeExecutionCommand).resolves({ ...running(), status });

      const answer = await getNodeConfig(deps(), REQUEST_ID, REQUESTER);

      expect(answer.statusCode).toBe(410);
      expect(answer.body.message).toBe(
        `Onboarding ${REQUEST_ID} has ended (${status}); its activation and NodeConfig were deleted.`,
      );
      expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
    },
  );

  it('hands out the NodeConfig and commands, not to be cached', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(running());
    const handout = {
      nodeConfig: 'apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n',
      commands: nodeadmCommands('1.33'),
    };
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(handout) } });

    const answer = await getNodeConfig(deps(), REQUEST_ID, REQUESTER);

    expect(answer).toEqual({
      statusCode: 200,
      body: { requestId: REQUEST_ID, node: 'gpu-node-01', fileName: 'nodeConfig.yaml', ...handout },
      headers: { 'cache-control': 'no-store' },
    });
  });
});
