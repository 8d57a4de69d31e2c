import {
  DeleteActivationCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  InvalidInstanceId,
  ListTagsForResourceCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsTransientError, KubernetesApiError } from '../../../lib/errors';
import type { KubeNode, NodeReaderFactory } from '../../../lib/kube/types';
import { cleanupFailedOnboarding } from '../../../lib/onboarding/cleanup';
import type { CaughtError, OnboardingState } from '../../../lib/onboarding/state';
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
} from '../../helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);

const TIMEOUT_PROBLEM = `No server registered with activation ${ACTIVATION_ID} for gpu-node-01 before it expired at 2026-11-23T00:00:00.000Z (31 polls).`;
const TIMEOUT_FIX =
  'On the server, run the two nodeadm commands with the NodeConfig from GET /nodes/{requestId}/nodeconfig.';
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
  Finish: (): OnboardingState => ({
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

function cleanUp(state: OnboardingState, nodes: KubeNode[] = []) {
  const fake = fakeNodes(nodes);
  const report = cleanupFailedOnboarding(
    { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: fake.factory, settings: settings() },
    state,
  );
  return { report, reads: fake.reads };
}

describe('cleanupFailedOnboarding', () => {
  beforeEach(() => ssmMock.reset());

  it('deletes the activation and parameters, deregisters our stray instance, releases the lock and reports', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForRegistration(),
      failure: lambdaFailure('RegistrationTimeoutError', `${TIMEOUT_PROBLEM} Fix: ${TIMEOUT_FIX}`),
    };

    const { report, reads } = cleanUp(state);

    await expect(report).resolves.toEqual({
      requestId: REQUEST_ID,
      step: 'WaitForRegistration',
      error: 'RegistrationTimeoutError',
      problem: TIMEOUT_PROBLEM,
      fix: TIMEOUT_FIX,
      summary: `Failed at WaitForRegistration with RegistrationTimeoutError: ${TIMEOUT_PROBLEM} Fix: ${TIMEOUT_FIX}`,
      cleanup: [
        {
          action: 'delete-parameters',
          resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
          outcome: 'deleted 2',
        },
        { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
        { action: 'delete-activation', resource: ACTIVATION_ID, outcome: 'deleted' },
        { action: 'deregister-instance', resource: INSTANCE_ID, outcome: 'deregistered' },
      ],
      notification: {
        subject: expect.stringMatching(
          /^\[CRITICAL\] gpu-node-01 onboarding failed: RegistrationTimeoutError at WaitForRegistration$/,
        ),
        message: expect.any(String),
        severity: 'critical',
        cluster: 'gpu-hybrid-cluster',
        check: 'onboarding',
      },
    });
    const inputs = <T>(calls: Array<{ args: [{ input: T }] }>) => calls.map((c) => c.args[0].input);
    expect(inputs(ssmMock.commandCalls(DeleteActivationCommand))).toEqual([{ ActivationId: ACTIVATION_ID }]);
    expect(inputs(ssmMock.commandCalls(DescribeInstanceInformationCommand))).toEqual([
      { Filters: [{ Key: 'ActivationIds', Values: [ACTIVATION_ID] }] },
    ]);
    expect(inputs(ssmMock.commandCalls(ListTagsForResourceCommand))).toEqual([
      { ResourceType: 'ManagedInstance', ResourceId: INSTANCE_ID },
    ]);
    expect(inputs(ssmMock.commandCalls(DeregisterManagedInstanceCommand))).toEqual([{ InstanceId: INSTANCE_ID }]);
    expect(inputs(ssmMock.commandCalls(DeleteParametersCommand))).toEqual([
      { Names: [CODE_PARAMETER, NODE_CONFIG_PARAMETER] },
    ]);
    expect(inputs(ssmMock.commandCalls(GetParameterCommand))).toEqual([{ Name: LOCK_PARAMETER }]);
    expect(inputs(ssmMock.commandCalls(DeleteParameterCommand))).toEqual([{ Name: LOCK_PARAMETER }]);
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

  it('after a failed preflight only deletes parameters: no activation, no instances, no lock to release', async () => {
    arrangeSsm();
    ssmMock.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [CODE_PARAMETER] });
    const state = {
      ...stateFailedAt.Preflight(),
      failure: lambdaFailure('ClusterNotActiveError', 'Not ACTIVE. Fix: Wait.'),
    };

    const report = await cleanUp(state).report;

    expect(report.cleanup).toEqual([
      {
        action: 'delete-parameters',
        resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
        outcome: 'none existed',
      },
    ]);
    expect(ssmMock).not.toHaveReceivedCommand(DeleteActivationCommand);
    expect(ssmMock).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
    expect(ssmMock).not.toHaveReceivedCommand(DeleteParameterCommand);
  });

  it('keeps a registered instance that became a Kubernetes Node, without looking at its tags', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const state = {
      ...stateFailedAt.WaitForNode(),
      failure: lambdaFailure('NodeNotReadyError', 'NotReady. Fix: Read the kubelet log.'),
    };

    const report = await cleanUp(state, [kubeNode()]).report;

    expect(report.cleanup).toContainEqual({
      action: 'keep-instance',
      resource: INSTANCE_ID,
      outcome: 'it is a Kubernetes Node; left for an operator',
    });
    expect(ssmMock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it.each([
    ['another request', [{ Key: 'hybridops:request-id', Value: 'gpu-node-01-ffffffffffff' }]],
    ['no request', [{ Key: 'EKSClusterARN', Value: CLUSTER_ARN }]],
  ])('keeps a registered instance tagged for %s', async (_, tags) => {
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
    expect(report.cleanup.map((a) => a.action)).toContain('release-lock');
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

    const report = await cleanupFailedOnboarding(
      { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: refusing, settings: settings() },
      state,
    );

    expect(report.cleanup).toEqual([
      {
        action: 'delete-parameters',
        resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
        outcome: 'deleted 2',
      },
      { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
      { action: 'delete-activation', resource: ACTIVATION_ID, outcome: 'deleted' },
      {
        action: 'keep-instance',
        resource: INSTANCE_ID,
        outcome: 'could not check for its Kubernetes Node (KubernetesApiError); left for an operator',
      },
    ]);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('fails for the workflow to retry when reading Nodes fails transiently', async () => {
    arrangeSsm({ registered: [INSTANCE_ID], tags: ourTags() });
    const flaky: NodeReaderFactory = () => ({
      getNode: async () => {
        throw new AwsTransientError('The Kubernetes API answered HTTP 503.', 'None; retried.');
      },
      listHybridNodes: () => {
        throw new Error('cleanup does not list Nodes');
      },
    });

    await expect(
      cleanupFailedOnboarding(
        { ssm: new SSMClient({ region: 'ap-northeast-2' }), nodes: flaky, settings: settings() },
        stateFailedAt.WaitForNode(),
      ),
    ).rejects.toBeInstanceOf(AwsTransientError);
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
      '- delete-parameters /eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345: deleted 2',
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
    const state = { ...base, failure: lambdaFailure('RegistrationTimeoutError', 'Too late. Fix: Again.') };

    const { subject } = (await cleanUp(state).report).notification;

    expect(subject).toMatch(/^\[CRITICAL\] [\x20-\x7e]*$/);
    expect(subject.length).toBeLessThanOrEqual(100);
  });
});
