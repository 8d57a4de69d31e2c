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
import { finishOnboarding, leftoverWarning } from '#lib/onboarding/finish';
import { awsError } from '#lib/sandbox/estate';
import { cniHint } from '#lib/onboarding/node-readiness';
import { KubernetesApiError } from '#lib/errors';
import { fakeKube } from '#test/helpers/fake-kube';
import {
  ACTIVATION_ID,
  activationResult,
  clusterAccess,
  CODE_PARAMETER,
  cpuRequestBody,
  gpuRequestBody,
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
/** The GPU check's last look at a Ready node's 8 GPUs (CheckGpus). */
const verifiedGpus = () => ({
  settled: true,
  attempt: 2,
  nextWaitSeconds: 0,
  requested: 8,
  allocatable: 8,
  capacity: 8,
  verdict: 'verified' as const,
  detail: `8 of 8 GPUs allocatable (nvidia.com/gpu) on Node ${INSTANCE_ID}.`,
});

const finishedState = (node = readyNodeState()) => ({
  ...onboardingInput(),
  preflight: preflightResult(),
  activation: activationResult(),
  nodeConfig: nodeConfigResult(),
  registration: registeredState(),
  node,
  // The workflow checks the GPUs of a Ready node only.
  ...(node.phase === 'ready' ? { gpuCheck: verifiedGpus() } : {}),
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
        verifyingGpus: 5,
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
      gpu: {
        requested: 8,
        allocatable: 8,
        capacity: 8,
        verdict: 'verified',
        detail: `8 of 8 GPUs allocatable (nvidia.com/gpu) on Node ${INSTANCE_ID}.`,
      },
      brief: {
        status: 'joined',
        nodeName: 'gpu-node-01',
        instanceId: INSTANCE_ID,
        gpuAllocatable: 8,
        gpuVerdict: 'verified',
        warnings: [],
      },
      notification: {
        subject: `[OK] gpu-node-01 (${INSTANCE_ID}) joined gpu-hybrid-cluster and is Ready; 8/8 GPUs verified`,
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
        'GPUs: 8 of 8 allocatable (nvidia.com/gpu, 8 in capacity): verified',
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

describe('finishOnboarding: what it says of the GPUs', () => {
  beforeEach(() => ssmMock.reset());

  it('joins with a warning, never a plain success, when no device plugin registered the GPUs', async () => {
    arrangeSsm();
    const state = {
      ...finishedState(),
      gpuCheck: {
        ...verifiedGpus(),
        allocatable: 0,
        capacity: 0,
        verdict: 'no-device-plugin' as const,
        detail: 'Node shows no nvidia.com/gpu: the NVIDIA device plugin or the GPU operator is not running on it.',
      },
    };

    const run = await finishOnboarding(deps(), state, parseRequest());

    expect(run.outcome).toBe('joined');
    expect(run.brief).toMatchObject({ status: 'warning', gpuAllocatable: 0, gpuVerdict: 'no-device-plugin' });
    expect(run.brief.warnings).toEqual([
      expect.stringMatching(
        /^GPUs not verified on mi-0123456789abcdef0 \(0 of 8 allocatable\): the NVIDIA device plugin/,
      ),
    ]);
    expect(run.brief.warnings[0]).toContain('driver 550.x+, containerd 1.6+ and the NVIDIA Container Toolkit');
    expect(run.notification).toMatchObject({
      subject: `[WARNING] gpu-node-01 (${INSTANCE_ID}) joined gpu-hybrid-cluster; GPUs: no device plugin`,
      severity: 'warning',
    });
    expect(run.notification.message).toContain(
      'GPUs: 0 of 8 allocatable (nvidia.com/gpu, 0 in capacity): no-device-plugin',
    );
  });

  it('reports the GPUs not checked, as a warning, when the check itself could not run', async () => {
    arrangeSsm();
    const { gpuCheck: _, ...unchecked } = finishedState();
    const state = { ...unchecked, gpuCheckFailure: { Error: 'Lambda.Unknown', Cause: 'The Lambda timed out' } };

    const run = await finishOnboarding(deps(), state, parseRequest());

    expect(run.gpu).toMatchObject({ verdict: 'not-checked', allocatable: null });
    expect(run.gpu?.detail).toContain('The GPU check could not run (Lambda.Unknown');
    expect(run.brief).toMatchObject({ status: 'warning', gpuVerdict: 'not-checked', gpuAllocatable: null });
  });

  it("shows the smoke test's first lines, and warns when nvidia-smi failed", async () => {
    arrangeSsm();
    const smokeTest = {
      namespace: 'hybridops-gpu-checks',
      pod: `gpu-smoke-${REQUEST_ID}`,
      startedAt: '2026-11-22T00:14:00Z',
      attempt: 2,
      nextWaitSeconds: 0,
      done: true,
      deleted: true,
      outcome: 'failed' as const,
      detail: 'nvidia-smi exited 1 (Error) on Node mi-0123456789abcdef0.',
      logHead: ['Failed to initialize NVML: Driver/library version mismatch', 'NVML library version: 550.144'],
    };
    const request = parseRequest({
      ...gpuRequestBody(),
      gpu: { vendor: 'nvidia', model: 'h100', count: 8, smokeTest: true },
    });

    const run = await finishOnboarding(deps(), { ...finishedState(), smokeTest }, request);

    expect(run.gpu?.smokeTest).toEqual({
      outcome: 'failed',
      namespace: 'hybridops-gpu-checks',
      pod: `gpu-smoke-${REQUEST_ID}`,
      detail: smokeTest.detail,
      logHead: smokeTest.logHead,
    });
    expect(run.brief.status).toBe('warning');
    expect(run.brief.warnings).toEqual([
      expect.stringContaining('The nvidia-smi smoke test failed on mi-0123456789abcdef0 ("Failed to initialize NVML'),
    ]);
    expect(run.notification.subject).toContain('; GPU smoke test failed');
    expect(run.notification.message).toContain('  | Failed to initialize NVML: Driver/library version mismatch');
  });

  it('deletes a smoke-test pod the run may have left, and names it with its command when it cannot', async () => {
    arrangeSsm();
    const request = parseRequest({
      ...gpuRequestBody(),
      gpu: { vendor: 'nvidia', model: 'h100', count: 8, smokeTest: true },
    });
    const state = { ...finishedState(), smokeTestFailure: { Error: 'Lambda.Unknown', Cause: 'timed out' } };
    const kube = fakeKube([]);
    await kube.factory(clusterAccess()).createPod('hybridops-gpu-checks', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `gpu-smoke-${REQUEST_ID}`, namespace: 'hybridops-gpu-checks' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'nvidia-smi', image: 'cuda' }] },
    });

    const run = await finishOnboarding({ ...deps(), nodes: kube.factory }, state, request);

    expect(run.cleanup).toContainEqual({
      action: 'delete-pod',
      resource: `hybridops-gpu-checks/gpu-smoke-${REQUEST_ID}`,
      outcome: 'deleted',
    });
    expect(kube.runs.size).toBe(0);

    const refusing = {
      ...kube.factory(clusterAccess()),
      deletePod: async () => {
        throw new KubernetesApiError('refused (HTTP 403)', 'apply deploy/kubernetes/gpu-check-rbac.yaml');
      },
    };
    const refused = await finishOnboarding({ ...deps(), nodes: () => refusing }, state, request);
    expect(refused.left).toContainEqual(
      expect.objectContaining({
        kind: 'pod',
        resource: `hybridops-gpu-checks/gpu-smoke-${REQUEST_ID}`,
        remove: `kubectl delete pod -n hybridops-gpu-checks gpu-smoke-${REQUEST_ID} --ignore-not-found`,
      }),
    );
    expect(refused.brief.status).toBe('warning');
  });

  it('says nothing of GPUs for a request without them', async () => {
    arrangeSsm();
    const { gpuCheck: _, ...state } = finishedState();

    const run = await finishOnboarding(deps(), state, parseRequest(cpuRequestBody()));

    expect(run.gpu).toBeUndefined();
    expect(run.brief).toMatchObject({ instanceId: INSTANCE_ID, gpuAllocatable: null, gpuVerdict: null });
    expect(run.brief.warnings.join(' ')).not.toContain('GPU');
    expect(run.notification.message).not.toContain('GPUs:');
  });
});

describe('leftoverWarning', () => {
  it('shortens the reason, never the command that removes the leftover', () => {
    const remove = `aws ssm delete-parameters --region ap-northeast-2 --names /eks-hybrid-ops/sandbox/onboarding/${'r'.repeat(40)}/activation-code /eks-hybrid-ops/sandbox/onboarding/${'r'.repeat(40)}/node-config`;
    const warning = leftoverWarning({
      kind: 'parameters',
      resource: 'p',
      why: `AccessDeniedException: ${'x'.repeat(400)}`,
      remove,
    });
    expect(warning.endsWith(`; remove it with: ${remove}`)).toBe(true);
    expect(warning.length).toBeLessThanOrEqual(400);
  });
});
