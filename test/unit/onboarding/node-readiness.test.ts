import { ManualClock } from '#lib/clock';
import { NodeIdentityMismatchError, NodeJoinTimeoutError, NodeNotReadyError } from '#lib/errors';
import type { KubeNode } from '#lib/kube/types';
import { checkNode, cniHint, isWaitingForCni } from '#lib/onboarding/node-readiness';
import type { NodeState } from '#lib/onboarding/state';
import { ONBOARDING_TIMINGS } from '#lib/settings';
import {
  clusterAccess,
  fakeNodes,
  INSTANCE_ID,
  kubeNode,
  managedInstance,
  REQUEST_ID,
  settings,
} from '#test/helpers/onboarding-fixtures';

const T = ONBOARDING_TIMINGS;
const REGISTERED_AT = '2026-11-22T00:12:05.000Z';
const CNI_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

/** The clock `minutes` after the server registered with SSM. */
const minutesAfterRegistration = (minutes: number) =>
  new ManualClock(new Date(Date.parse(REGISTERED_AT) + minutes * 60_000));
const iso = (clock: ManualClock) => clock.now().toISOString();

function look(nodes: KubeNode[], clock: ManualClock, previous?: NodeState) {
  const fake = fakeNodes(nodes);
  const result = checkNode(
    { nodes: fake.factory, clock, settings: settings() },
    {
      clusterAccess: clusterAccess(),
      instance: managedInstance({ registeredAt: REGISTERED_AT }),
      requestId: REQUEST_ID,
      nodeIp: '192.168.10.21',
      previous,
    },
  );
  return { result, reads: fake.reads };
}

const notReady = (reason: string, message: string) => kubeNode({ ready: { status: 'False', reason, message } });
const pendingState = (overrides: Partial<NodeState> = {}): NodeState => ({
  settled: false,
  phase: 'pending',
  attempt: 1,
  nextWaitSeconds: T.nodeFirstWaitSeconds,
  ...overrides,
});

describe('checkNode', () => {
  it('settles as ready for a Ready hybrid Node with this request label and IP', async () => {
    const clock = minutesAfterRegistration(2);
    const { result, reads } = look([kubeNode()], clock);

    await expect(result).resolves.toEqual({
      settled: true,
      phase: 'ready',
      attempt: 1,
      nextWaitSeconds: 0,
      name: INSTANCE_ID,
      internalIp: '192.168.10.21',
      readyAt: iso(clock),
    });
    expect(reads).toEqual([{ cluster: clusterAccess(), name: INSTANCE_ID }]);
  });

  it('waits for a Node that has not appeared yet, backing off', async () => {
    await expect(look([], minutesAfterRegistration(1)).result).resolves.toEqual(pendingState());

    const previous = pendingState({ attempt: 3 });
    await expect(look([], minutesAfterRegistration(5), previous).result).resolves.toEqual(
      pendingState({
        attempt: 4,
        nextWaitSeconds: Math.min(T.nodeMaxWaitSeconds, T.nodeFirstWaitSeconds * T.backoffRate ** 3),
      }),
    );
  });

  it('still waits for the Node at the join deadline itself', async () => {
    const { result } = look([], minutesAfterRegistration(T.nodeJoinTimeoutMinutes));
    await expect(result).resolves.toMatchObject({ settled: false, phase: 'pending' });
  });

  it('fails with NodeJoinTimeoutError once the join timeout has passed with no Node', async () => {
    const clock = minutesAfterRegistration(T.nodeJoinTimeoutMinutes);
    clock.advance(1);
    const { result } = look([], clock);

    await expect(result).rejects.toBeInstanceOf(NodeJoinTimeoutError);
    await expect(result).rejects.toThrow(
      `Server ${INSTANCE_ID} registered with SSM at ${REGISTERED_AT} but no Kubernetes Node ${INSTANCE_ID} appeared in gpu-hybrid-cluster within ${T.nodeJoinTimeoutMinutes} minutes.`,
    );
  });

  it.each([
    [
      "another request's label",
      () => kubeNode({ labels: { ...kubeNode().labels, 'hybridops.io/request-id': 'gpu-node-01-000000000000' } }),
      "label hybridops.io/request-id is 'gpu-node-01-000000000000', not 'gpu-node-01-abcdef012345'",
    ],
    [
      'no request label',
      () => {
        const { 'hybridops.io/request-id': _, ...labels } = kubeNode().labels;
        return kubeNode({ labels });
      },
      "label hybridops.io/request-id is '(none)'",
    ],
    [
      'another IP',
      () => kubeNode({ internalIps: ['192.168.10.99'] }),
      'InternalIP is 192.168.10.99, not 192.168.10.21',
    ],
    [
      'no compute-type label',
      () => {
        const { 'eks.amazonaws.com/compute-type': _, ...labels } = kubeNode().labels;
        return kubeNode({ labels });
      },
      "label eks.amazonaws.com/compute-type is '(none)', not 'hybrid'",
    ],
  ])('fails with NodeIdentityMismatchError for a Node with %s', async (_, node, problem) => {
    const { result } = look([node()], minutesAfterRegistration(2));

    await expect(result).rejects.toBeInstanceOf(NodeIdentityMismatchError);
    await expect(result).rejects.toThrow(problem);
  });

  it('checks identity before readiness: a NotReady stranger is a mismatch, not a wait', async () => {
    const node = kubeNode({ internalIps: ['10.9.9.9'], ready: { status: 'False', reason: 'KubeletNotReady' } });
    await expect(look([node], minutesAfterRegistration(2)).result).rejects.toBeInstanceOf(NodeIdentityMismatchError);
  });

  describe('a Node that is NotReady for want of a CNI', () => {
    const node = () => notReady('KubeletNotReady', CNI_MESSAGE);

    it('is recognised by its Ready condition', () => {
      expect(isWaitingForCni(node().ready)).toBe(true);
      expect(isWaitingForCni({ status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' })).toBe(
        false,
      );
      expect(isWaitingForCni(undefined)).toBe(false);
    });

    it('waits, from the first time it is seen NotReady, with the hint', async () => {
      const clock = minutesAfterRegistration(2);
      const { result } = look([node()], clock, pendingState({ attempt: 2 }));

      await expect(result).resolves.toEqual({
        settled: false,
        phase: 'pending',
        attempt: 3,
        nextWaitSeconds: Math.min(T.nodeMaxWaitSeconds, T.nodeFirstWaitSeconds * T.backoffRate ** 2),
        name: INSTANCE_ID,
        internalIp: '192.168.10.21',
        notReadySince: iso(clock),
        condition: `KubeletNotReady: ${CNI_MESSAGE}`,
        hint: cniHint(INSTANCE_ID),
      });
    });

    it('keeps waiting within the CNI grace period', async () => {
      const since = minutesAfterRegistration(2);
      const clock = minutesAfterRegistration(2 + T.cniGraceMinutes);
      clock.advance(-1);
      const previous = pendingState({ attempt: 6, notReadySince: iso(since) });

      await expect(look([node()], clock, previous).result).resolves.toMatchObject({
        settled: false,
        phase: 'pending',
        notReadySince: iso(since),
      });
    });

    it('settles as not-ready-no-cni with the hint once the grace period is over', async () => {
      const since = minutesAfterRegistration(2);
      const clock = minutesAfterRegistration(2 + T.cniGraceMinutes);
      const previous = pendingState({ attempt: 7, notReadySince: iso(since) });

      const state = await look([node()], clock, previous).result;

      expect(state).toEqual({
        settled: true,
        phase: 'not-ready-no-cni',
        attempt: 8,
        nextWaitSeconds: 0,
        name: INSTANCE_ID,
        internalIp: '192.168.10.21',
        notReadySince: iso(since),
        condition: `KubeletNotReady: ${CNI_MESSAGE}`,
        hint: cniHint(INSTANCE_ID),
      });
      expect(state.hint).toContain('Install Cilium or Calico');
    });
  });

  describe('a Node that is NotReady for another reason', () => {
    const node = () => notReady('KubeletNotReady', 'PLEG is not healthy: pleg was last seen active 3m0s ago');

    it('waits without a CNI hint within the grace period', async () => {
      const state = await look([node()], minutesAfterRegistration(2)).result;

      expect(state).toMatchObject({ settled: false, phase: 'pending' });
      expect(state.hint).toBeUndefined();
    });

    it('fails with NodeNotReadyError once the grace period is over', async () => {
      const since = minutesAfterRegistration(2);
      const clock = minutesAfterRegistration(2 + T.cniGraceMinutes);
      const { result } = look([node()], clock, pendingState({ attempt: 7, notReadySince: iso(since) }));

      await expect(result).rejects.toBeInstanceOf(NodeNotReadyError);
      await expect(result).rejects.toThrow(
        `Node ${INSTANCE_ID} has been NotReady since ${iso(since)}: KubeletNotReady: PLEG is not healthy`,
      );
    });

    it('fails the same way for a Node that never posted a Ready condition', async () => {
      const since = minutesAfterRegistration(2);
      const clock = minutesAfterRegistration(2 + T.cniGraceMinutes + 1);
      const { result } = look([kubeNode({ ready: undefined })], clock, pendingState({ notReadySince: iso(since) }));

      await expect(result).rejects.toThrow('no Ready condition yet');
    });
  });

  it('settles as ready when a Node that was waiting for its CNI turns Ready', async () => {
    const clock = minutesAfterRegistration(30);
    const previous = pendingState({ attempt: 9, notReadySince: iso(minutesAfterRegistration(2)) });

    await expect(look([kubeNode()], clock, previous).result).resolves.toMatchObject({
      settled: true,
      phase: 'ready',
      attempt: 10,
      readyAt: iso(clock),
    });
  });
});
