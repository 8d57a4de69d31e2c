import {
  DeleteActivationCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  InvalidActivation,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { finishOnboarding } from '#lib/onboarding/finish';
import { awsError } from '#lib/sandbox/estate';
import { cniHint } from '#lib/onboarding/node-readiness';
import {
  ACTIVATION_ID,
  activationResult,
  CODE_PARAMETER,
  INSTANCE_ID,
  LOCK_PARAMETER,
  NODE_CONFIG_PARAMETER,
  nodeConfigResult,
  onboardingInput,
  parseRequest,
  preflightResult,
  REQUEST_ID,
  REQUESTER,
  readyNodeState,
  registeredState,
  settings,
} from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);

const deps = () => ({
  ssm: new SSMClient({ region: 'ap-northeast-2' }),
  clock: new ManualClock('2026-11-22T00:14:40Z'),
  settings: settings(),
});

/** A state as Finish gets it: preflight at 00:00:00, issued 00:00:05, registered 00:12:05, Ready 00:14:35. */
const finishedState = (node = readyNodeState()) => ({
  ...onboardingInput(),
  preflight: preflightResult(),
  activation: activationResult(),
  nodeConfig: nodeConfigResult(),
  registration: registeredState(),
  node,
});

function arrangeSsm(lockHolder = REQUEST_ID) {
  ssmMock.on(DeleteActivationCommand).resolves({});
  ssmMock.on(DeleteParametersCommand).resolves({ DeletedParameters: [CODE_PARAMETER, NODE_CONFIG_PARAMETER] });
  ssmMock.on(GetParameterCommand, { Name: LOCK_PARAMETER }).resolves({
    Parameter: { Value: JSON.stringify({ requestId: lockHolder, expiresAt: '2026-11-23T00:50:00.000Z' }) },
  });
  ssmMock.on(DeleteParameterCommand).resolves({});
}
const sent = {
  deleteActivation: () => ssmMock.commandCalls(DeleteActivationCommand).map((c) => c.args[0].input),
  deleteParameters: () => ssmMock.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input),
  getParameter: () => ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input),
  deleteParameter: () => ssmMock.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input),
};

describe('finishOnboarding', () => {
  beforeEach(() => ssmMock.reset());

  it('deletes the used activation and its parameters, and releases the lock', async () => {
    arrangeSsm();

    await finishOnboarding(deps(), finishedState(), parseRequest());

    expect(sent.deleteActivation()).toEqual([{ ActivationId: ACTIVATION_ID }]);
    expect(sent.deleteParameters()).toEqual([
      {
        Names: [
          '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/activation-code',
          '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/node-config',
        ],
      },
    ]);
    expect(sent.getParameter()).toEqual([{ Name: LOCK_PARAMETER }]);
    expect(sent.deleteParameter()).toEqual([{ Name: LOCK_PARAMETER }]);
  });

  it('summarises a Ready node with the time spent in each phase', async () => {
    arrangeSsm();

    const run = await finishOnboarding(deps(), finishedState(), parseRequest());
    const { attempt: _attempt, retry: _retry, nextWaitSeconds: _wait, ...summary } = run;

    expect(run).toMatchObject({ attempt: 1, retry: false, nextWaitSeconds: 0 });
    expect(summary).toEqual({
      outcome: 'joined',
      requestId: REQUEST_ID,
      cluster: 'gpu-hybrid-cluster',
      nodeName: 'gpu-node-01',
      instanceId: INSTANCE_ID,
      ipAddress: '192.168.10.21',
      platform: 'Ubuntu 22.04',
      timings: {
        preflight: 2,
        issueActivation: 3,
        renderNodeConfig: 2,
        waitingForRegistration: 718,
        waitingForNode: 150,
        total: 880,
      },
      hint: undefined,
      cleanup: [
        {
          action: 'delete-parameters',
          resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
          outcome: 'deleted 2',
        },
        { action: 'release-lock', resource: LOCK_PARAMETER, outcome: 'released' },
        { action: 'delete-activation', resource: ACTIVATION_ID, outcome: 'deleted' },
      ],
      left: [],
      notification: {
        subject: `[OK] gpu-node-01 (${INSTANCE_ID}) joined gpu-hybrid-cluster and is Ready`,
        message: expect.any(String),
        severity: 'info',
        cluster: 'gpu-hybrid-cluster',
        check: 'onboarding',
      },
    });
    const message = summary.notification.message;
    expect(message.split('\n')).toEqual(
      expect.arrayContaining([
        'Hybrid node gpu-node-01 joined cluster gpu-hybrid-cluster and is Ready.',
        `Request: ${REQUEST_ID}`,
        `Requested by: ${REQUESTER}`,
        `Kubernetes Node: ${INSTANCE_ID}`,
        'IP: 192.168.10.21',
        'Platform: Ubuntu 22.04',
        'Preflight: 2 s',
        'Issuing the activation: 3 s',
        'Rendering the NodeConfig: 2 s',
        'Time to register: 718 s',
        'Time to Node: 150 s',
        'Total: 880 s',
        'The activation and its code have been deleted, and the node lock released.',
      ]),
    );
    expect(message).not.toContain('Condition:');
    expect(message).not.toContain('What to do:');
  });

  it('warns about a node that joined NotReady for want of a CNI, with the hint', async () => {
    arrangeSsm();
    const condition = 'KubeletNotReady: container runtime network not ready: NetworkReady=false';
    const node = readyNodeState({
      phase: 'not-ready-no-cni',
      readyAt: undefined,
      notReadySince: '2026-11-22T00:13:00.000Z',
      condition,
      hint: cniHint(INSTANCE_ID),
    });

    const summary = await finishOnboarding(deps(), finishedState(node), parseRequest());

    expect(summary).toMatchObject({
      outcome: 'joined-not-ready',
      hint: cniHint(INSTANCE_ID),
      // No readyAt: the Node phase lasted until Finish ran (00:12:05 -> 00:14:40).
      timings: {
        preflight: 2,
        issueActivation: 3,
        renderNodeConfig: 2,
        waitingForRegistration: 718,
        waitingForNode: 155,
        total: 880,
      },
      notification: {
        subject: `[WARNING] gpu-node-01 (${INSTANCE_ID}) joined gpu-hybrid-cluster but is NotReady: no CNI`,
        severity: 'warning',
      },
    });
    expect(summary.notification.message).toContain(`Condition: ${condition}`);
    expect(summary.notification.message).toContain(`What to do: ${cniHint(INSTANCE_ID)}`);
  });

  it('finishes when the activation is already gone', async () => {
    arrangeSsm();
    ssmMock.on(DeleteActivationCommand).rejects(new InvalidActivation({ $metadata: {}, message: 'not valid' }));

    await expect(finishOnboarding(deps(), finishedState(), parseRequest())).resolves.toMatchObject({
      outcome: 'joined',
      left: [],
    });
    expect(sent.deleteParameters()).toHaveLength(1);
  });

  it('leaves a lock another request has taken since', async () => {
    arrangeSsm('gpu-node-01-ffffffffffff');

    await finishOnboarding(deps(), finishedState(), parseRequest());

    expect(ssmMock).not.toHaveReceivedCommand(DeleteParameterCommand);
  });

  it('keeps its SNS subject within 100 ASCII characters', async () => {
    arrangeSsm();
    const name = `gpu-node-${'x'.repeat(50)}-01`;
    const request = parseRequest({
      cluster: `gpu-hybrid-cluster-${'y'.repeat(60)}`,
      node: { name, ip: '192.168.10.21', os: 'ubuntu-22.04' },
    });

    const summary = await finishOnboarding(deps(), finishedState(), request);

    expect(summary.notification.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    expect(summary.notification.subject.endsWith('...')).toBe(true);
  });

  it('never touches the registered instance: it is the new Node', async () => {
    arrangeSsm();

    await finishOnboarding(deps(), finishedState(), parseRequest());

    expect(ssmMock).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
    expect(ssmMock).not.toHaveReceivedCommand(DeregisterManagedInstanceCommand);
  });

  it('is a success with a warning, naming what it could not remove and how, when a step is refused', async () => {
    arrangeSsm();
    ssmMock.on(DeleteParametersCommand).rejects(awsError('ssm', 'AccessDeniedException', 'not authorized'));

    const run = await finishOnboarding(deps(), finishedState(), parseRequest());

    expect(run).toMatchObject({ attempt: 1, retry: false });
    expect(run.outcome).toBe('joined');
    expect(run.cleanup.map((a) => a.action)).toEqual(['release-lock', 'delete-activation']);
    expect(run.left).toEqual([
      {
        kind: 'parameters',
        resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
        why: 'DeleteParameters failed (AccessDeniedException: not authorized)',
        remove: `aws ssm delete-parameters --region ap-northeast-2 --names ${CODE_PARAMETER} ${NODE_CONFIG_PARAMETER}`,
        retryable: false,
      },
    ]);
    expect(run.notification).toMatchObject({
      subject: `[WARNING] gpu-node-01 (${INSTANCE_ID}) joined gpu-hybrid-cluster and is Ready; 1 left`,
      severity: 'warning',
    });
    expect(run.notification.message).toContain('Still there after 1 cleanup attempt(s); remove by hand:');
  });

  it('asks to be tried again while a step fails for a moment, keeping what the earlier try did', async () => {
    arrangeSsm();
    ssmMock.on(DeleteActivationCommand).rejectsOnce(awsError('ssm', 'ThrottlingException', 'Rate exceeded'));

    const first = await finishOnboarding(deps(), finishedState(), parseRequest());
    ssmMock.on(DeleteParametersCommand).resolves({ DeletedParameters: [] });
    const second = await finishOnboarding(
      deps(),
      { ...finishedState(), finish: { attempt: first.attempt, cleanup: first.cleanup } },
      parseRequest(),
    );

    expect(first).toMatchObject({ attempt: 1, retry: true, nextWaitSeconds: 10 });
    expect(first.left).toMatchObject([{ kind: 'activation', resource: ACTIVATION_ID, retryable: true }]);
    expect(second).toMatchObject({ attempt: 2, retry: false, left: [] });
    expect(second.cleanup).toContainEqual({
      action: 'delete-parameters',
      resource: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345',
      outcome: 'deleted 2',
    });
    expect(second.cleanup).toContainEqual({
      action: 'delete-activation',
      resource: ACTIVATION_ID,
      outcome: 'deleted',
    });
  });
});
