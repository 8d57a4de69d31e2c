import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ManualClock } from '#lib/clock';
import { NodeUpgradeTimeoutError } from '#lib/errors';
import type { KubeNode, NodeReaderFactory } from '#lib/kube/types';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import {
  checkUpgradedNode,
  failedStep,
  failNodeUpgrade,
  finishNodeUpgrade,
  type NodeFailureInput,
  startNodeUpgrade,
} from '#lib/upgrades/node-steps';
import type { NodeItem, NodeStart } from '#lib/upgrades/state';

const NODE = 'mi-0a2b4c6d8e0f12342';
const LOCK = '/eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-12';
const UPGRADE_ID = 'upgrade-1-33-0123456789ab';
const access = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://eks',
  certificateAuthority: '',
};

const item = (): NodeItem => ({
  upgradeId: UPGRADE_ID,
  access,
  target: '1.33',
  force: false,
  drainTimeoutSeconds: 600,
  node: { nodeName: NODE, name: 'gpu-node-12', instanceId: NODE, lockParameter: LOCK, from: 'v1.31.4-eks-1', wave: 0 },
});

function kubeNode(extra: Partial<KubeNode> = {}): KubeNode {
  return {
    name: NODE,
    labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
    internalIps: ['192.168.10.32'],
    ready: { status: 'True' },
    capacity: {},
    allocatable: {},
    unschedulable: false,
    kubeletVersion: 'v1.31.4-eks-1',
    ...extra,
  };
}

let ssm: SSMClient;
let clock: ManualClock;
let current: KubeNode | undefined;
const nodes: NodeReaderFactory = () => ({
  getNode: async () => current,
  async *listHybridNodes() {
    yield current ? [current] : [];
  },
});
const lock = async () => {
  try {
    const answer = await ssm.send(new GetParameterCommand({ Name: LOCK }));
    return JSON.parse(answer.Parameter?.Value ?? 'null') as { requestId: string; workflow?: string; expiresAt: string };
  } catch {
    return undefined;
  }
};
const putLock = (value: object) =>
  ssm.send(new PutParameterCommand({ Name: LOCK, Type: 'String', Value: JSON.stringify(value), Overwrite: true }));

beforeEach(() => {
  // The sandbox's SSM: parameters created with Overwrite=false as SSM creates them.
  ssm = withServices(SandboxEstate.inMemory()).clients().ssm;
  clock = new ManualClock('2026-11-22T00:00:00Z');
  current = kubeNode();
});

describe('startNodeUpgrade', () => {
  it('takes the lock as an upgrade, and remembers the node was not cordoned', async () => {
    const start = await startNodeUpgrade({ ssm, nodes, clock }, item());

    expect(start).toEqual({
      action: 'upgrade',
      startedAt: '2026-11-22T00:00:00.000Z',
      cordonedBefore: false,
      drainDeadline: '2026-11-22T00:10:00.000Z',
      drainWaitSeconds: 21,
    });
    // Held for the drain, the command and the wait for Ready at their longest, and 10 minutes.
    expect(await lock()).toEqual({ requestId: UPGRADE_ID, workflow: 'upgrade', expiresAt: '2026-11-22T01:20:00.000Z' });
  });

  it('remembers a cordon that was there before it came', async () => {
    current = kubeNode({ unschedulable: true });
    expect(await startNodeUpgrade({ ssm, nodes, clock }, item())).toMatchObject({ cordonedBefore: true });
  });

  it('skips a node another run holds, leaving that run its lock', async () => {
    const theirs = { requestId: 'offboard-x', expiresAt: '2026-11-23T00:00:00.000Z', workflow: 'offboarding' };
    await putLock(theirs);
    const start = await startNodeUpgrade({ ssm, nodes, clock }, item());
    expect(start.action).toBe('skip');
    expect(start.outcome).toMatchObject({ outcome: 'skipped', reason: 'busy', cordoned: false });
    expect(start.outcome?.detail).toContain('The offboarding offboard-x holds this node');
    expect(await lock()).toEqual(theirs);
  });

  it.each([
    ['gone', undefined, 'not-found'],
    ['at the target already', kubeNode({ kubeletVersion: 'v1.33.1-eks-1' }), 'at-target'],
    ['NotReady', kubeNode({ ready: { status: 'False', reason: 'KubeletNotReady' } }), 'not-ready'],
  ])('skips a node %s since the plan, and lets its lock go', async (_what, node, reason) => {
    current = node;
    const start = await startNodeUpgrade({ ssm, nodes, clock }, item());
    expect(start).toMatchObject({ action: 'skip', outcome: { reason, outcome: 'skipped' } });
    expect(await lock()).toBeUndefined();
  });
});

describe('checkUpgradedNode', () => {
  const check = (previous?: Awaited<ReturnType<typeof checkUpgradedNode>>) =>
    checkUpgradedNode({ nodes, clock }, { access, target: '1.33', nodeName: NODE, previous });

  it('waits while the kubelet restarts, and is done once Ready at the target', async () => {
    current = kubeNode({ ready: { status: 'False', reason: 'KubeletNotReady' }, kubeletVersion: 'v1.33.1-eks-1' });
    const first = await check();
    expect(first).toMatchObject({ done: false, attempt: 1, since: '2026-11-22T00:00:00.000Z' });
    clock.advance(60);
    current = kubeNode({ kubeletVersion: 'v1.33.1-eks-1' });
    expect(await check(first)).toMatchObject({
      done: true,
      attempt: 2,
      kubeletVersion: 'v1.33.1-eks-1',
      ready: 'Ready',
    });
  });

  it('is not done while Ready at the old version', async () => {
    expect(await check()).toMatchObject({ done: false, kubeletVersion: 'v1.31.4-eks-1' });
  });

  it('fails NodeUpgradeTimeoutError past 15 minutes, saying what the Node is', async () => {
    current = kubeNode({ ready: { status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' } });
    const first = await check();
    clock.advance(900);
    expect((await check(first)).done).toBe(false);
    clock.advance(1);
    await expect(check(first)).rejects.toBeInstanceOf(NodeUpgradeTimeoutError);
    await expect(check(first)).rejects.toThrow(
      `Node ${NODE} is not Ready at 1.33 15 minutes after nodeadm upgrade succeeded: it is NotReady (KubeletNotReady: PLEG is not healthy), its kubelet v1.31.4-eks-1.`,
    );
  });
});

describe('finishNodeUpgrade', () => {
  const start = (cordonedBefore = false): NodeStart => ({
    action: 'upgrade',
    startedAt: '2026-11-22T00:00:00.000Z',
    cordonedBefore,
    drainDeadline: '2026-11-22T00:10:00.000Z',
    drainWaitSeconds: 21,
  });
  const readiness = { done: true, since: '2026-11-22T00:05:00.000Z', attempt: 2, kubeletVersion: 'v1.33.1-eks-1' };

  it('releases the lock and says how it went', async () => {
    await startNodeUpgrade({ ssm, nodes, clock }, item());
    clock.advance(7 * 60);
    const outcome = await finishNodeUpgrade({ ssm, clock }, { item: item(), start: start(), readiness });
    expect(outcome).toEqual({
      nodeName: NODE,
      name: 'gpu-node-12',
      wave: 0,
      outcome: 'upgraded',
      from: 'v1.31.4-eks-1',
      to: 'v1.33.1-eks-1',
      detail: 'Upgraded from v1.31.4-eks-1 to v1.33.1-eks-1 in 7 min.',
      cordoned: false,
    });
    expect(await lock()).toBeUndefined();
  });

  it('says a node cordoned before the upgrade is left so', async () => {
    const outcome = await finishNodeUpgrade({ ssm, clock }, { item: item(), start: start(true), readiness });
    expect(outcome.cordoned).toBe(true);
    expect(outcome.detail).toContain(`Left cordoned, as it was before the upgrade: kubectl uncordon ${NODE}`);
  });
});

describe('failNodeUpgrade', () => {
  const began: NodeStart = {
    action: 'upgrade',
    startedAt: '2026-11-22T00:00:00.000Z',
    cordonedBefore: false,
    drainDeadline: '2026-11-22T00:10:00.000Z',
    drainWaitSeconds: 21,
  };
  const lambdaCause = (name: string, message: string) => ({
    Error: name,
    Cause: JSON.stringify({ errorType: name, errorMessage: message }),
  });
  const failed = (extra: Partial<NodeFailureInput>): NodeFailureInput => ({
    item: item(),
    failure: lambdaCause('Boom', 'boom'),
    ...extra,
  });

  it('names the step from what the steps before it wrote', () => {
    expect(failedStep(failed({}))).toBe('StartNodeUpgrade');
    expect(failedStep(failed({ start: began }))).toBe('CordonNode');
    expect(failedStep(failed({ start: began, cordon: {}, drain: { done: false } }))).toBe('DrainNode');
    expect(failedStep(failed({ start: began, cordon: {}, drain: { done: true } }))).toBe('RunNodeCommand');
    const commanded = { start: began, cordon: {}, drain: { done: true }, command: {} };
    expect(failedStep(failed(commanded))).toBe('CheckNodeCommand');
    expect(failedStep(failed({ ...commanded, commandStatus: { done: true } }))).toBe('CheckUpgradedNode');
    const ready = { done: true, since: '', attempt: 1 };
    expect(failedStep(failed({ ...commanded, commandStatus: { done: true }, readiness: ready }))).toBe('UncordonNode');
  });

  it('a blocked drain: the node was uncordoned, the lock released, the pods named', async () => {
    await startNodeUpgrade({ ssm, nodes, clock }, item());
    const outcome = await failNodeUpgrade(
      { ssm },
      failed({
        start: began,
        cordon: { wasCordoned: false },
        drain: { done: false },
        failure: lambdaCause(
          'DrainBlockedError',
          'The drain of mi-0a2b4c6d8e0f12342 is blocked by 1 pod: ml/trainer-0 (PDB). Fix: Set force: true, or fix the PodDisruptionBudget.',
        ),
        uncordon: { uncordoned: true },
      }),
    );
    expect(outcome).toMatchObject({
      outcome: 'failed',
      step: 'DrainNode',
      error: 'DrainBlockedError',
      cordoned: false,
    });
    expect(outcome.detail).toBe(
      'DrainNode failed with DrainBlockedError: The drain of mi-0a2b4c6d8e0f12342 is blocked by 1 pod: ml/trainer-0 (PDB). Fix: Set force: true, or fix the PodDisruptionBudget. It was uncordoned and is unchanged.',
    );
    expect(await lock()).toBeUndefined();
  });

  it('a failed nodeadm upgrade: left cordoned, with the output tail its error carries and how to bring it back', async () => {
    const outcome = await failNodeUpgrade(
      { ssm },
      failed({
        start: began,
        cordon: {},
        drain: { done: true },
        command: { commandId: 'c-1' },
        commandStatus: { done: false },
        failure: lambdaCause(
          'NodeCommandFailedError',
          'nodeadm upgrade failed on mi-0a2b4c6d8e0f12342: Failed (exit 1). Output tail:\n{"level":"fatal","msg":"Command failed"} Fix: Read the output.',
        ),
      }),
    );
    expect(outcome).toMatchObject({ step: 'CheckNodeCommand', error: 'NodeCommandFailedError', cordoned: true });
    expect(outcome.detail).toContain('{"level":"fatal","msg":"Command failed"}');
    expect(outcome.detail).toContain(
      `It is left cordoned: once it is fixed and Ready at 1.33, run kubectl uncordon ${NODE}.`,
    );
  });

  it('an uncordon that failed leaves the node cordoned, and says so', async () => {
    const outcome = await failNodeUpgrade(
      { ssm },
      failed({ start: began, cordon: {}, drain: { done: false }, uncordonFailure: { Error: 'AwsTransientError' } }),
    );
    expect(outcome.cordoned).toBe(true);
    expect(outcome.detail).toContain(`uncordoning failed (AwsTransientError); run kubectl uncordon ${NODE}`);
  });

  it('a failure before it took the node changes nothing and leaves another run its lock', async () => {
    const theirs = { requestId: 'someone-else', expiresAt: '2026-11-23T00:00:00.000Z' };
    await putLock(theirs);
    const outcome = await failNodeUpgrade(
      { ssm },
      failed({ failure: { Error: 'States.Timeout', Cause: 'timed out' } }),
    );
    expect(outcome).toMatchObject({ step: 'StartNodeUpgrade', cordoned: false });
    expect(outcome.detail).toContain('Nothing was changed on it.');
    expect(await lock()).toEqual(theirs);
  });
});
