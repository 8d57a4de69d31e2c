import {
  DeleteActivationCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  InvalidInstanceId,
  InvalidResourceId,
  DescribeActivationsCommand,
  ListTagsForResourceCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsTransientError, KubernetesApiError } from '#lib/errors';
import type { KubeNode, NodeReaderFactory } from '#lib/kube/types';
import { type CleanupRun, cleanUpOnboarding } from '#lib/onboarding/cleanup';
import { awsError } from '#lib/sandbox/estate';
import type { CaughtError } from '#lib/caught-error';
import type { OnboardingState } from '#lib/onboarding/state';
import {
  ACTIVATION_ID,
  activationResult,
  CLUSTER_ARN,
  CODE_PARAMETER,
  clusterAccess,
  fakeNodes,
  INSTANCE_ID,
  kubeNode,
  LOCK_PARAMETER,
  NODE_CONFIG_PARAMETER,
  nodeConfigResult,
  onboardingInput,
  preflightResult,
  REQUEST_ID,
  REQUESTER,
  readyNodeState,
  registeredState,
  settings,
} from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);

const TIMEOUT_PROBLEM = `No server registered with activation ${ACTIVATION_ID} for gpu-node-01 before it expired at 2026-11-23T00:00:00.000Z (31 polls).`;
const TIMEOUT_FIX =
  'On the server, run the commands that come with the NodeConfig (GET /nodes/{requestId}/nodeconfig).';
/** What a Catch records for an error a Lambda function threw. */
const lambdaFailure = (errorType: string, errorMessage: string): CaughtError => ({
  Error: errorType,
  Cause: JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at run (/var/task/index.js:1:1)'],
  }),
});

/** The state as the workflow leaves it when each step fails. */
const stateFailedAt = {
  Preflight: (): OnboardingState => ({ ...onboardingInput() }),
  IssueActivation: (): OnboardingState => ({ ...onboardingInput(), preflight: preflightResult() }),
  RenderNodeConfig: (): OnboardingState => ({
    ...onboardingInput(),
    preflight: preflightResult(),
    activation: activationResult(),
  }),
  WaitForRegistration: (): OnboardingState => ({
    ...onboardingInput(),
    preflight: preflightResult(),
    activation: activationResult(),
    nodeConfig: nodeConfigResult(),
    registration: { registered: false, attempt: 30, nextWaitSeconds: 300 },
  }),
  WaitForNode: (): OnboardingState => ({
    ...onboardingInput(),
    preflight: preflightResult(),
    activation: activationResult(),
    nodeConfig: nodeConfigResult(),
    registration: registeredState(),
    node: { settled: false, phase: 'pending', attempt: 12, nextWaitSeconds: 60 },
  }),
  FinishOnboarding: (): OnboardingState => ({
    ...onboardingInput(),
    preflight: preflightResult(),
    activation: activationResult(),
    nodeConfig: nodeConfigResult(),
    registration: registeredState(),
    node: readyNodeState(),
  }),
};

/** SSM as it stands after a failure: the activation, both parameters and our lock exist. */
function arrangeSsm(options: { registered?: string[]; tags?: Array<{ Key: string; Value: string }> } = {}) {
  ssmMock.on(DeleteActivationCommand).resolves({});
  ssmMock
    .on(DescribeInstanceInformationCommand)
    .resolves({ InstanceInformationList: (options.registered ?? []).map((InstanceId) => ({ InstanceId })) });
  ssmMock.on(ListTagsForResourceCommand).resolves({ TagList: options.tags ?? [] });
  ssmMock.on(DeregisterManagedInstanceCommand).resolves({});
  ssmMock.on(DeleteParametersCommand).resolves({ DeletedParameters: [CODE_PARAMETER, NODE_CONFIG_PARAMETER] });
  ssmMock.on(GetParameterCommand, { Name: LOCK_PARAMETER }).resolves({
    Parameter: { Value: JSON.stringify({ requestId: REQUEST_ID, expiresAt: '2026-11-23T00:50:00.000Z' }) },
  });
  ssmMock.on(DeleteParameterCommand).resolves({});
}
const ourTags = () => [
  { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
  { Key: 'hybridops:request-id', Value: REQUEST_ID },
  { Key: 'hybridops:node-name', Value: 'gpu-node-01' },
];

function cleanUp(
  state: OnboardingState & { cleanup?: { attempt: number; cleanup: CleanupRun['cleanup'] } },
  nodes: KubeNode[] = [],
) {
  const fake = fakeNodes(nodes);
  const run = cleanUpOnboarding(
    { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: fake.factory, settings: settings() },
    state,
  );
  return { run, report: run, reads: fake.reads };
}
const TAG_FILTER = { Filters: [{ Key: 'tag:hybridops:request-id', Values: [REQUEST_ID] }], MaxResults: 50 };

const inputs = <T>(calls: Array<{ args: [{ input: T }] }>) => calls.map((c) => c.args[0].input);
const PARAMETER_BASE = '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345';

describe('cleanUpOnboarding', () => {
  beforeEach(() => ssmMock.reset());

  it('deletes the activation and parameters, deregisters our stray instance, releases the lock and reports', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForRegistration(),
      failure: lambdaFailure('RegistrationTimeoutError', `${TIMEOUT_PROBLEM} Fix: ${TIMEOUT_FIX}`),
    };

    const { run, reads } = cleanUp(state);

    await expect(run).resolves.toEqual({
      attempt: 1,
      retry: false,
      nextWaitSeconds: 0,
      requestId: REQUEST_ID,
      step: 'WaitForRegistration',
      error: 'RegistrationTimeoutError',
      problem: TIMEOUT_PROBLEM,
      fix: TIMEOUT_FIX,
      summary: `Failed at WaitForRegistration with RegistrationTimeoutError: ${TIMEOUT_PROBLEM} Fix: ${TIMEOUT_FIX}`,
      cleanup: [
        { action: 'delete-parameters', resource: PARAMETER_BASE, outcome: 'deleted 2' },
        { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
        { action: 'delete-activation', resource: ACTIVATION_ID, outcome: 'deleted' },
        { action: 'deregister-instance', resource: INSTANCE_ID, outcome: 'deregistered' },
      ],
      left: [],
      notification: {
        subject: '[CRITICAL] gpu-node-01 onboarding failed: RegistrationTimeoutError at WaitForRegistration',
        message: expect.any(String),
        severity: 'critical',
        cluster: 'gpu-hybrid-cluster',
        check: 'onboarding',
      },
    });
    expect(inputs(ssmMock.commandCalls(DeleteActivationCommand))).toEqual([{ ActivationId: ACTIVATION_ID }]);
    // Instances are found by the request tag SSM copies from the activation, so one whose
    // activation the state never recorded is found too.
    expect(inputs(ssmMock.commandCalls(DescribeInstanceInformationCommand))).toEqual([TAG_FILTER]);
    expect(inputs(ssmMock.commandCalls(ListTagsForResourceCommand))).toEqual([
      { ResourceType: 'ManagedInstance', ResourceId: INSTANCE_ID },
    ]);
    expect(inputs(ssmMock.commandCalls(DeregisterManagedInstanceCommand))).toEqual([{ InstanceId: INSTANCE_ID }]);
    expect(inputs(ssmMock.commandCalls(DeleteParametersCommand))).toEqual([
      { Names: [CODE_PARAMETER, NODE_CONFIG_PARAMETER] },
    ]);
    expect(inputs(ssmMock.commandCalls(GetParameterCommand))).toEqual([{ Name: LOCK_PARAMETER }]);
    expect(inputs(ssmMock.commandCalls(DeleteParameterCommand))).toEqual([{ Name: LOCK_PARAMETER }]);
    // Any other activation tagged with the request (a lost answer's duplicate) is looked for too.
    expect(ssmMock).toHaveReceivedCommandWith(DescribeActivationsCommand, {
      Filters: [{ FilterKey: 'DefaultInstanceName', FilterValues: ['gpu-node-01'] }],
      MaxResults: 50,
    });
    expect(reads).toEqual([{ cluster: clusterAccess(), name: INSTANCE_ID }]);
  });

  it.each(Object.keys(stateFailedAt) as Array<keyof typeof stateFailedAt>)(
    'names the step that failed from the state: %s',
    async (step) => {
      arrangeSsm();
      const state = { ...stateFailedAt[step](), failure: lambdaFailure('SomeError', 'It broke. Fix: Mend it.') };

      const report = await cleanUp(state).report;

      expect(report.step).toBe(step);
      expect(report.summary).toBe(`Failed at ${step} with SomeError: It broke. Fix: Mend it.`);
    },
  );

  it('releases the lock named by the request when Preflight took it but its result never reached the state', async () => {
    arrangeSsm();
    ssmMock.on(DescribeActivationsCommand).resolves({ ActivationList: [] });
    const state = { ...stateFailedAt.Preflight(), failure: { Error: 'Lambda.Unknown', Cause: 'Task timed out' } };

    const report = await cleanUp(state).report;

    expect(report.cleanup).toEqual([
      { action: 'delete-parameters', resource: PARAMETER_BASE, outcome: 'deleted 2' },
      { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
    ]);
    expect(inputs(ssmMock.commandCalls(DeleteParameterCommand))).toEqual([{ Name: LOCK_PARAMETER }]);
    // No activation can exist before preflight passed, so no instance either: nothing deregistered.
    expect(ssmMock).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it('deletes a duplicate activation beside the recorded one (CreateActivation answered twice after a lost answer)', async () => {
    arrangeSsm();
    const duplicate = '11111111-2222-4333-8444-555555555555';
    const tagged = [{ Key: 'hybridops:request-id', Value: REQUEST_ID }];
    ssmMock.on(DescribeActivationsCommand).resolves({
      ActivationList: [
        { ActivationId: duplicate, Tags: tagged },
        { ActivationId: ACTIVATION_ID, Tags: tagged },
      ],
    });
    const state = { ...stateFailedAt.WaitForRegistration(), failure: lambdaFailure('SomeError', 'x. Fix: y.') };

    const report = await cleanUp(state).report;

    expect(
      inputs(ssmMock.commandCalls(DeleteActivationCommand))
        .map((i) => i.ActivationId)
        .sort(),
    ).toEqual([ACTIVATION_ID, duplicate].sort());
    expect(report.cleanup).toContainEqual({
      action: 'delete-activation',
      resource: duplicate,
      outcome: 'deleted (not recorded in the state)',
    });
  });

  it('finds and deletes an activation the state never recorded, by its request tag', async () => {
    arrangeSsm();
    const other = '11111111-2222-4333-8444-555555555555';
    ssmMock.on(DescribeActivationsCommand).resolves({
      ActivationList: [
        { ActivationId: ACTIVATION_ID, Tags: [{ Key: 'hybridops:request-id', Value: REQUEST_ID }] },
        { ActivationId: other, Tags: [{ Key: 'hybridops:request-id', Value: 'gpu-node-01-ffffffffffff' }] },
      ],
    });
    const state = { ...stateFailedAt.IssueActivation(), failure: { Error: 'Lambda.Unknown', Cause: 'lost' } };

    const report = await cleanUp(state).report;

    expect(inputs(ssmMock.commandCalls(DescribeActivationsCommand))).toEqual([
      { Filters: [{ FilterKey: 'DefaultInstanceName', FilterValues: ['gpu-node-01'] }], MaxResults: 50 },
    ]);
    expect(inputs(ssmMock.commandCalls(DeleteActivationCommand))).toEqual([{ ActivationId: ACTIVATION_ID }]);
    expect(report.cleanup).toContainEqual({
      action: 'delete-activation',
      resource: ACTIVATION_ID,
      outcome: 'deleted (not recorded in the state)',
    });
  });

  it('keeps a registered instance that became a Kubernetes Node, names it with how to remove it', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeNotReadyError', 'NotReady. Fix: Read the kubelet log.'),
    };

    const { report, run } = cleanUp(state, [kubeNode()]);

    expect((await report).cleanup).toContainEqual({
      action: 'keep-instance',
      resource: INSTANCE_ID,
      outcome: 'it is a Kubernetes Node; left for an operator',
    });
    expect((await report).left).toEqual([
      {
        kind: 'node',
        resource: INSTANCE_ID,
        why: 'it registered and became a Kubernetes Node before the onboarding failed; left for an operator to keep or remove',
        remove: `kubectl drain ${INSTANCE_ID} --ignore-daemonsets --delete-emptydir-data && kubectl delete node ${INSTANCE_ID} && aws ssm deregister-managed-instance --region ap-northeast-2 --instance-id ${INSTANCE_ID}`,
        retryable: false,
      },
    ]);
    expect((await run).retry).toBe(false);
    expect(ssmMock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it.each([
    ['another request', [{ Key: 'hybridops:request-id', Value: 'gpu-node-01-ffffffffffff' }]],
    ['no request', [{ Key: 'EKSClusterARN', Value: CLUSTER_ARN }]],
  ])('keeps a listed instance whose own tags name %s', async (_, tags) => {
    arrangeSsm({ registered: [INSTANCE_ID], tags });
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const report = await cleanUp(state).report;

    expect(report.cleanup).toContainEqual({
      action: 'keep-instance',
      resource: INSTANCE_ID,
      outcome: `not tagged hybridops:request-id=${REQUEST_ID}`,
    });
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('counts an instance that is already deregistered (InvalidInstanceId) as gone', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    ssmMock
      .on(DeregisterManagedInstanceCommand)
      .rejects(new InvalidInstanceId({ $metadata: {}, message: 'Instance Id is not valid' }));
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const report = await cleanUp(state).report;

    expect(report.cleanup).toContainEqual({
      action: 'deregister-instance',
      resource: INSTANCE_ID,
      outcome: 'already gone',
    });
    expect(report.left).toEqual([]);
  });

  it('counts the instance of the state that an earlier try deregistered (SSM no longer lists it; its tags are gone) as gone', async () => {
    arrangeSsm({ registered: [], tags: ourTags() });
    ssmMock
      .on(ListTagsForResourceCommand)
      .rejects(new InvalidResourceId({ $metadata: {}, message: 'The resource ID is not valid.' }));
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const report = await cleanUp(state).report;

    expect(report.cleanup).toContainEqual({
      action: 'deregister-instance',
      resource: INSTANCE_ID,
      outcome: 'already gone',
    });
    expect(report.left).toEqual([]);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('does not count an instance SSM lists now as gone when its tags cannot be read (InvalidResourceId)', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    ssmMock
      .on(ListTagsForResourceCommand)
      .rejects(new InvalidResourceId({ $metadata: {}, message: 'The resource ID is not valid.' }));
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const report = await cleanUp(state).report;

    expect(report.cleanup.map((a) => a.action)).not.toContain('deregister-instance');
    expect(report.left).toEqual([
      expect.objectContaining({
        kind: 'managed-instance',
        resource: INSTANCE_ID,
        why: 'reading its tags failed (InvalidResourceId: The resource ID is not valid.)',
        remove: `aws ssm deregister-managed-instance --region ap-northeast-2 --instance-id ${INSTANCE_ID}`,
      }),
    ]);
  });

  it.each([
    ['reading its tags', 'ssm:ListTagsForResource'],
    ['deregistering it', 'ssm:DeregisterManagedInstance'],
  ] as const)('names a stray instance with its command when %s is refused', async (doing, action) => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const refused = Object.assign(new Error(`User is not authorized to perform: ${action}`), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    if (action === 'ssm:ListTagsForResource') ssmMock.on(ListTagsForResourceCommand).rejects(refused);
    else ssmMock.on(DeregisterManagedInstanceCommand).rejects(refused);
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const run = await cleanUp(state).run;

    expect(run.cleanup.map((a) => a.action)).not.toContain('deregister-instance');
    expect(run.left).toEqual([
      {
        kind: 'managed-instance',
        resource: INSTANCE_ID,
        why: `${doing} failed (AccessDeniedException: User is not authorized to perform: ${action})`,
        remove: `aws ssm deregister-managed-instance --region ap-northeast-2 --instance-id ${INSTANCE_ID}`,
        retryable: false,
      },
    ]);
    expect(run.notification.message).toContain(
      `  aws ssm deregister-managed-instance --region ap-northeast-2 --instance-id ${INSTANCE_ID}`,
    );
  });

  it('tries every step although the first is refused, and names what is left with its command', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    ssmMock.on(DeleteParametersCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: ssm:DeleteParameters'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeJoinTimeoutError', 'No Node. Fix: x.'),
    };

    const run = await cleanUp(state).run;

    expect(run.cleanup.map((a) => a.action)).toEqual(['release-lock', 'delete-activation', 'deregister-instance']);
    expect(run.left).toEqual([
      {
        kind: 'parameters',
        resource: PARAMETER_BASE,
        why: 'DeleteParameters failed (AccessDeniedException: User is not authorized to perform: ssm:DeleteParameters)',
        remove: `aws ssm delete-parameters --region ap-northeast-2 --names ${CODE_PARAMETER} ${NODE_CONFIG_PARAMETER}`,
        retryable: false,
      },
    ]);
    // Refused is not going to pass: no second try.
    expect(run).toMatchObject({ attempt: 1, retry: false, nextWaitSeconds: 0 });
    expect(run.summary).toContain(`Left to remove: ${PARAMETER_BASE} (aws ssm delete-parameters `);
    expect(run.notification.subject).toMatch(/; 1 left$/);
    expect(run.notification.message).toContain(
      [
        'Still there after 1 cleanup attempt(s); remove by hand:',
        `- parameters ${PARAMETER_BASE}: DeleteParameters failed (AccessDeniedException: User is not authorized to perform: ssm:DeleteParameters)`,
        `  aws ssm delete-parameters --region ap-northeast-2 --names ${CODE_PARAMETER} ${NODE_CONFIG_PARAMETER}`,
      ].join('\n'),
    );
  });

  it('asks for another try, after 10, 30 and 90 s, while a step fails for a moment; then gives up', async () => {
    arrangeSsm();
    ssmMock.on(DeleteActivationCommand).rejects(awsError('ssm', 'ThrottlingException', 'Rate exceeded'));
    const failed = { ...stateFailedAt.WaitForRegistration(), failure: lambdaFailure('SomeError', 'x. Fix: y.') };

    const tries: CleanupRun[] = [];
    for (let i = 0; i < 4; i += 1) {
      const earlier = tries.at(-1);
      const state = earlier ? { ...failed, cleanup: { attempt: earlier.attempt, cleanup: earlier.cleanup } } : failed;
      tries.push(await cleanUp(state).run);
    }

    expect(tries.map((t) => [t.attempt, t.retry, t.nextWaitSeconds])).toEqual([
      [1, true, 10],
      [2, true, 30],
      [3, true, 90],
      [4, false, 0],
    ]);
    expect(tries.at(-1)?.left).toMatchObject([{ kind: 'activation', resource: ACTIVATION_ID, retryable: true }]);
  });

  it('keeps what an earlier try did: a parameter it deleted is reported deleted, not "none existed"', async () => {
    arrangeSsm();
    ssmMock.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [CODE_PARAMETER] });
    const state = {
      ...stateFailedAt.WaitForRegistration(),
      failure: lambdaFailure('SomeError', 'x. Fix: y.'),
      cleanup: {
        attempt: 1,
        cleanup: [{ action: 'delete-parameters' as const, resource: PARAMETER_BASE, outcome: 'deleted 2' }],
      },
    };

    const run = await cleanUp(state).run;

    expect(run.attempt).toBe(2);
    expect(run.cleanup[0]).toEqual({
      action: 'delete-parameters',
      resource: PARAMETER_BASE,
      outcome: 'deleted 2',
    });
  });

  it('keeps the instance but still deletes parameters and releases the lock when Nodes cannot be read', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('KubernetesApiError', 'Refused (HTTP 403). Fix: Apply the node-reader RBAC.'),
    };
    const refusing: NodeReaderFactory = () => ({
      getNode: async () => {
        throw new KubernetesApiError('The Kubernetes API refused (HTTP 403).', 'Apply the node-reader RBAC.');
      },
      listHybridNodes: () => {
        throw new Error('cleanup does not list Nodes');
      },
    });

    const run = await cleanUpOnboarding(
      { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: refusing, settings: settings() },
      state,
    );

    expect(run.cleanup).toEqual([
      { action: 'delete-parameters', resource: PARAMETER_BASE, outcome: 'deleted 2' },
      { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
      { action: 'delete-activation', resource: ACTIVATION_ID, outcome: 'deleted' },
      {
        action: 'keep-instance',
        resource: INSTANCE_ID,
        outcome: 'could not check for its Kubernetes Node (KubernetesApiError)',
      },
    ]);
    expect(run.left).toMatchObject([{ kind: 'managed-instance', resource: INSTANCE_ID, retryable: false }]);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('asks for another try, deregistering nothing, when reading Nodes fails for a moment', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const flaky: NodeReaderFactory = () => ({
      getNode: async () => {
        throw new AwsTransientError('The Kubernetes API answered HTTP 503.', 'None; retried.');
      },
      listHybridNodes: () => {
        throw new Error('cleanup does not list Nodes');
      },
    });

    const run = await cleanUpOnboarding(
      { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: flaky, settings: settings() },
      stateFailedAt.WaitForNode(),
    );

    expect(run).toMatchObject({ retry: true, nextWaitSeconds: 10 });
    expect(run.left).toMatchObject([{ kind: 'managed-instance', resource: INSTANCE_ID, retryable: true }]);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('reads a plain-text States.Timeout cause as the problem, with no fix', async () => {
    arrangeSsm();
    const state = {
      ...stateFailedAt.RenderNodeConfig(),
      failure: { Error: 'States.Timeout', Cause: 'Task timed out after 60.00 seconds' },
    };

    const report = await cleanUp(state).report;

    expect(report).toMatchObject({
      step: 'RenderNodeConfig',
      error: 'States.Timeout',
      problem: 'Task timed out after 60.00 seconds',
      summary: 'Failed at RenderNodeConfig with States.Timeout: Task timed out after 60.00 seconds',
    });
    expect(report.fix).toBeUndefined();
    expect(report.notification.message).toContain(
      'How to fix: See the error above; the request can be submitted again once it is fixed.',
    );
  });

  it('still reports when no error was recorded', async () => {
    arrangeSsm();
    ssmMock.on(DescribeActivationsCommand).resolves({ ActivationList: [] });

    const report = await cleanUp(stateFailedAt.IssueActivation()).report;

    expect(report).toMatchObject({
      step: 'IssueActivation',
      error: 'States.Unknown',
      problem: 'no error was recorded',
    });
  });

  it('tells the operator the request, step, error, fix and what was cleaned up', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForRegistration(),
      failure: lambdaFailure('RegistrationTimeoutError', `${TIMEOUT_PROBLEM} Fix: ${TIMEOUT_FIX}`),
    };

    const { message } = (await cleanUp(state).report).notification;

    expect(message.split('\n')).toEqual([
      'Onboarding of gpu-node-01 into gpu-hybrid-cluster failed at step WaitForRegistration.',
      '',
      `Request: ${REQUEST_ID}`,
      `Requested by: ${REQUESTER}`,
      'Node IP: 192.168.10.21',
      'Failed step: WaitForRegistration',
      'Error: RegistrationTimeoutError',
      `What happened: ${TIMEOUT_PROBLEM}`,
      `How to fix: ${TIMEOUT_FIX}`,
      '',
      'Cleanup:',
      `- delete-parameters ${PARAMETER_BASE}: deleted 2`,
      `- release-lock ${LOCK_PARAMETER}: released`,
      `- delete-activation ${ACTIVATION_ID}: deleted`,
      `- deregister-instance ${INSTANCE_ID}: deregistered`,
    ]);
  });

  it.each([
    ['the usual names', stateFailedAt.WaitForRegistration()],
    [
      'long names',
      {
        ...stateFailedAt.Preflight(),
        request: { cluster: `cluster-${'c'.repeat(90)}`, node: { name: `node-${'n'.repeat(58)}`, ip: '192.168.1.1' } },
      },
    ],
    [
      'non-ASCII names from a request that failed validation',
      { ...stateFailedAt.Preflight(), request: { cluster: 'gpu-hybrid-cluster', node: { name: 'gpu-nöde-01 ✓' } } },
    ],
  ])('keeps the SNS subject to at most 100 ASCII characters with %s', async (_, base) => {
    arrangeSsm();
    ssmMock.on(DescribeActivationsCommand).resolves({ ActivationList: [] });
    const state = { ...base, failure: lambdaFailure('RegistrationTimeoutError', 'Too late. Fix: Again.') };

    const { subject } = (await cleanUp(state).report).notification;

    expect(subject).toMatch(/^\[CRITICAL\] [\x20-\x7e]*$/);
    expect(subject.length).toBeLessThanOrEqual(100);
  });
});
