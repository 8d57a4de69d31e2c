/**
 * The offboarding workflow's own steps (PrepareOffboarding, RemoveNode, CleanUpOffboarding) on the
 * sandbox estate: what each finds, changes and reports, on its own.
 */
import { NodeBusyError, NotHybridNodeError, OnboardingInProgressError } from '#lib/errors';
import { acquireNodeLock } from '#lib/node-lock';
import { cleanUpOffboarding } from '#lib/offboarding/cleanup';
import { prepareOffboarding } from '#lib/offboarding/prepare';
import { removeNode } from '#lib/offboarding/remove';
import type { OffboardingInput, OffboardingState, PrepareResult } from '#lib/offboarding/state';
import type { SandboxEstate } from '#lib/sandbox/index';
import {
  CLUSTER,
  CLUSTER_ARN,
  freshEstate,
  GPU_NODE_02,
  GPU_NODE_03,
  offboardingInput,
  PREFIX,
  REGION,
  runtimeOf,
} from '#test/helpers/offboarding-fixtures';

const LOCK_02 = `${PREFIX}/locks/${CLUSTER}/gpu-node-12`;
let estate: SandboxEstate;
beforeEach(() => {
  estate = freshEstate();
});

const prepare = (input: OffboardingInput) => {
  const rt = runtimeOf(estate);
  return prepareOffboarding({ clients: rt.clients, nodes: rt.nodes, settings: rt.settings, clock: rt.clock }, input);
};
const removeDeps = () => {
  const rt = runtimeOf(estate);
  return { ssm: rt.clients.ssm, nodes: rt.nodes, clock: rt.clock, settings: rt.settings };
};
const cleanupDeps = () => {
  const rt = runtimeOf(estate);
  return { ssm: rt.clients.ssm, nodes: rt.nodes, settings: rt.settings };
};
const lockValue = (name = LOCK_02) => JSON.parse(estate.state.parameters[name]?.value ?? 'null');

/** A drained node whose uninstall ran: the state RemoveNode gets on the happy path. */
async function drained(
  node = 'gpu-node-12',
  body: Record<string, unknown> = {},
): Promise<OffboardingState & { prepare: PrepareResult }> {
  const input = await offboardingInput(estate, node, body);
  const prepared = await prepare(input);
  return {
    ...input,
    prepare: prepared,
    cordon: { wasCordoned: false },
    drain: { done: true, evicting: [], blocked: [], forced: [] },
    ...(prepared.uninstall.run
      ? {
          command: { commandId: '0b1c2d3e-0000-4000-8000-000000000001', sentAt: prepared.preparedAt },
          commandCheck: { done: true, status: 'Success', outputTail: ['Nodeadm components uninstalled'] },
        }
      : {}),
  };
}

describe('prepareOffboarding', () => {
  it("reads the node, its host's PingStatus and cost, and takes the node lock for the offboarding", async () => {
    const input = await offboardingInput(estate, 'gpu-node-12', { drainTimeoutSeconds: 600 });
    const result = await prepare(input);
    expect(result).toMatchObject({
      clusterArn: CLUSTER_ARN,
      nodeName: GPU_NODE_02,
      onboardedName: 'gpu-node-12',
      node: { present: true, unschedulable: false, ready: 'True', vcpus: 224, internalIp: '192.168.10.32' },
      instance: { id: GPU_NODE_02, registered: true, pingStatus: 'Online', requestId: 'gpu-node-12-seeded' },
      lockParameter: LOCK_02,
      force: false,
      uninstall: { run: true, reason: 'host-online' },
      pricePerVcpuHour: 0.1099,
      // 224 vCPU x 0.1099 USD x 24 h (REFERENCE.md section 5).
      costPerDayUsd: 590.82,
    });
    expect(Date.parse(result.drainDeadline) - Date.parse(result.preparedAt)).toBe(600_000);
    expect(lockValue()).toEqual({
      requestId: input.requestId,
      expiresAt: result.lockExpiresAt,
      workflow: 'offboarding',
    });
  });

  it('is safe to run again: a retried step holds the lock it took', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    await prepare(input);
    await expect(prepare(input)).resolves.toMatchObject({ lockParameter: LOCK_02 });
  });

  it('skips the uninstall when asked, when the host is offline, and when nothing is registered', async () => {
    expect((await prepare(await offboardingInput(estate, 'gpu-node-12', { skipUninstall: true }))).uninstall).toEqual({
      run: false,
      reason: 'skipped-by-request',
    });
    const instance = estate.state.instances[GPU_NODE_03];
    if (instance) instance.pingStatus = 'ConnectionLost';
    expect((await prepare(await offboardingInput(estate, GPU_NODE_03))).uninstall).toEqual({
      run: false,
      reason: 'host-offline',
    });
  });

  it('takes a Node whose instance was deregistered already: nothing to uninstall', async () => {
    const input = await offboardingInput(estate, GPU_NODE_03);
    delete estate.state.instances[GPU_NODE_03];
    const result = await prepare(input);
    expect(result.node.present).toBe(true);
    expect(result.instance).toEqual({ id: GPU_NODE_03, registered: false });
    expect(result.uninstall).toEqual({ run: false, reason: 'not-registered' });
  });

  it('takes a node gone since it was submitted as gone: nothing to cordon, drain or uninstall', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    delete estate.state.nodes[GPU_NODE_02];
    delete estate.state.instances[GPU_NODE_02];
    const result = await prepare(input);
    expect(result.node).toMatchObject({ present: false, vcpus: 0 });
    expect(result.instance.registered).toBe(false);
    expect(result.costPerDayUsd).toBe(0);
  });

  it("refuses a node whose instance no longer carries the cluster's tag (NotHybridNodeError)", async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    const instance = estate.state.instances[GPU_NODE_02];
    if (instance) instance.tags = instance.tags.filter((t) => t.Key !== 'EKSClusterARN');
    await expect(prepare(input)).rejects.toBeInstanceOf(NotHybridNodeError);
    expect(lockValue()).toBeNull();
  });

  it('stops when another run holds the node: an onboarding by its own error, others as NodeBusyError', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    const ssm = runtimeOf(estate).clients.ssm;
    const future = new Date(Date.now() + 3600_000).toISOString();
    await acquireNodeLock(ssm, LOCK_02, { requestId: 'gpu-node-12-poc-9', expiresAt: future }, new Date());
    await expect(prepare(input)).rejects.toBeInstanceOf(OnboardingInProgressError);
    delete estate.state.parameters[LOCK_02];
    await acquireNodeLock(ssm, LOCK_02, { requestId: 'up-1', expiresAt: future, workflow: 'upgrade' }, new Date());
    await expect(prepare(input)).rejects.toBeInstanceOf(NodeBusyError);
  });
});

describe('removeNode', () => {
  it('deletes the Node, deregisters the instance, deletes what was left for the node, releases the lock', async () => {
    const state = await drained();
    const cluster = {
      id: '11111111-2222-4333-8444-555555555555',
      tags: [{ Key: 'EKSClusterARN', Value: CLUSTER_ARN }],
    };
    const base = {
      code: 'c',
      iamRole: 'r',
      registrationLimit: 1,
      registrationsCount: 0,
      expirationDate: '2099-01-01T00:00:00Z',
      createdDate: '2026-01-01T00:00:00Z',
      defaultInstanceName: 'gpu-node-12',
    };
    estate.state.activations[cluster.id] = {
      ...base,
      id: cluster.id,
      tags: [...cluster.tags, { Key: 'hybridops:request-id', Value: 'gpu-node-12-poc-3' }],
    };
    const otherCluster = '99999999-2222-4333-8444-555555555555';
    estate.state.activations[otherCluster] = {
      ...base,
      id: otherCluster,
      tags: [{ Key: 'EKSClusterARN', Value: 'arn:aws:eks:x:1:cluster/other' }],
    };
    for (const request of ['gpu-node-12-seeded', 'gpu-node-12-poc-3']) {
      const name = `${PREFIX}/onboarding/${request}/node-config`;
      estate.state.parameters[name] = {
        name,
        type: 'SecureString',
        value: '{}',
        version: 1,
        tier: 'Standard',
        lastModified: '',
      };
    }

    const result = await removeNode(removeDeps(), state);

    expect(estate.state.nodes[GPU_NODE_02]).toBeUndefined();
    expect(estate.state.instances[GPU_NODE_02]).toBeUndefined();
    expect(Object.keys(estate.state.activations)).toContain(otherCluster);
    expect(Object.keys(estate.state.activations)).not.toContain(cluster.id);
    expect(Object.keys(estate.state.parameters)).toEqual([]);
    expect(result).toMatchObject({
      outcome: 'offboarded',
      nodeName: GPU_NODE_02,
      costPerDayUsd: 590.82,
      left: [],
      retry: false,
    });
    expect(result.actions.map((a) => `${a.action} ${a.resource}: ${a.outcome}`)).toEqual([
      `cordon ${GPU_NODE_02}: cordoned`,
      expect.stringMatching(new RegExp(`^drain ${GPU_NODE_02}: drained`)),
      `nodeadm-uninstall ${GPU_NODE_02}: SSM Run Command 0b1c2d3e-0000-4000-8000-000000000001: Success`,
      `delete-node ${GPU_NODE_02}: deleted`,
      `deregister-instance ${GPU_NODE_02}: deregistered`,
      `delete-parameters ${PREFIX}/onboarding/gpu-node-12-poc-3: deleted 1`,
      `delete-parameters ${PREFIX}/onboarding/gpu-node-12-seeded: deleted 1`,
      `delete-activation ${cluster.id}: deleted`,
      `release-lock ${LOCK_02}: released`,
    ]);
    expect(result.notification).toMatchObject({
      subject: '[OK] gpu-node-12 offboarded: 590.82 USD/day stopped',
      severity: 'info',
      check: 'offboarding',
    });
    expect(result.notification.message).toContain(
      'Its Node object is deleted, so it no longer bills: 590.82 USD a day (224 vCPU x 0.1099 USD per vCPU-hour x 24 h',
    );
    expect(result.notification.message).toContain(
      'nodeadm uninstall output (last lines):\n    Nodeadm components uninstalled',
    );
  });

  it('names what an offline host keeps, and how to remove it, as a warning', async () => {
    const instance = estate.state.instances[GPU_NODE_03];
    if (instance) instance.pingStatus = 'ConnectionLost';
    const result = await removeNode(removeDeps(), await drained(GPU_NODE_03));
    expect(result.outcome).toBe('offboarded');
    expect(result.notification.subject).toBe(
      '[WARNING] gpu-node-13 offboarded: 590.82 USD/day stopped; host not uninstalled',
    );
    expect(result.left).toEqual([expect.objectContaining({ kind: 'host', resource: GPU_NODE_03 })]);
    expect(result.notification.message).toContain("The host still has nodeadm's files");
    expect(result.notification.message).toContain('When the host is back, run on it: sudo nodeadm uninstall --force');
    expect(result.notification.message).toContain('/var/lib/kubelet');
    expect(result.actions).toContainEqual({
      action: 'deregister-instance',
      resource: GPU_NODE_03,
      outcome: 'deregistered',
    });
  });

  it('fails when the Node cannot be deleted: the node is still billing', async () => {
    const state = await drained();
    const deps = removeDeps();
    const failing = {
      ...deps,
      nodes: (c: Parameters<typeof deps.nodes>[0]) => ({
        ...deps.nodes(c),
        deleteNode: () => Promise.reject(new Error('HTTP 403')),
      }),
    };
    await expect(removeNode(failing, state)).rejects.toThrow('HTTP 403');
    expect(lockValue()).not.toBeNull();
  });

  it('tries again while SSM throttles, and the report keeps what an earlier try did', async () => {
    const state = await drained();
    estate.injectFault({
      on: 'ssm:DeregisterManagedInstance',
      effect: 'error',
      error: 'ThrottlingException',
      times: 'always',
    });
    const first = await removeNode(removeDeps(), state);
    expect(first).toMatchObject({ retry: true, nextWaitSeconds: 10, attempt: 1 });
    expect(first.left).toEqual([
      expect.objectContaining({
        kind: 'managed-instance',
        resource: GPU_NODE_02,
        retryable: true,
        remove: `aws ssm deregister-managed-instance --region ${REGION} --instance-id ${GPU_NODE_02}`,
      }),
    ]);
    estate.clearFaults();
    const second = await removeNode(removeDeps(), {
      ...state,
      remove: { attempt: first.attempt, actions: first.actions },
    });
    expect(second).toMatchObject({ retry: false, attempt: 2, left: [] });
    expect(second.actions).toContainEqual({ action: 'delete-node', resource: GPU_NODE_02, outcome: 'deleted' });
    expect(second.actions).toContainEqual({
      action: 'deregister-instance',
      resource: GPU_NODE_02,
      outcome: 'deregistered',
    });
  });

  it("keeps an activation while its request's parameters are left, so a try whose answer is lost finds them again", async () => {
    const state = await drained();
    const id = '11111111-2222-4333-8444-555555555555';
    estate.state.activations[id] = {
      id,
      code: 'c',
      iamRole: 'r',
      registrationLimit: 1,
      registrationsCount: 0,
      expirationDate: '2099-01-01T00:00:00Z',
      createdDate: '2026-01-01T00:00:00Z',
      defaultInstanceName: 'gpu-node-12',
      tags: [
        { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
        { Key: 'hybridops:request-id', Value: 'gpu-node-12-left-behind' },
      ],
    };
    const name = `${PREFIX}/onboarding/gpu-node-12-left-behind/node-config`;
    estate.state.parameters[name] = {
      name,
      type: 'SecureString',
      value: '{}',
      version: 1,
      tier: 'Standard',
      lastModified: '',
    };
    estate.injectFault({ on: 'ssm:DeleteParameters', effect: 'error', error: 'ThrottlingException', times: 'always' });
    const first = await removeNode(removeDeps(), state);
    expect(first.left).toContainEqual(expect.objectContaining({ kind: 'activation', resource: id, retryable: true }));
    expect(estate.state.activations[id]).toBeDefined();
    estate.clearFaults();

    // The first try's answer never reached the state machine (a Lambda timeout after its work).
    const second = await removeNode(removeDeps(), state);
    expect(second.left).toEqual([]);
    expect(estate.state.parameters[name]).toBeUndefined();
    expect(estate.state.activations[id]).toBeUndefined();
  });

  it("looks again for the parameters of a request it found on an earlier try, though that request's activation is gone", async () => {
    const state = await drained();
    const id = '11111111-2222-4333-8444-555555555555';
    estate.state.activations[id] = {
      id,
      code: 'c',
      iamRole: 'r',
      registrationLimit: 1,
      registrationsCount: 0,
      expirationDate: '2099-01-01T00:00:00Z',
      createdDate: '2026-01-01T00:00:00Z',
      defaultInstanceName: 'gpu-node-12',
      tags: [
        { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
        { Key: 'hybridops:request-id', Value: 'gpu-node-12-poc-3' },
      ],
    };
    const name = `${PREFIX}/onboarding/gpu-node-12-poc-3/node-config`;
    estate.state.parameters[name] = {
      name,
      type: 'SecureString',
      value: '{}',
      version: 1,
      tier: 'Standard',
      lastModified: '',
    };
    estate.injectFault({ on: 'ssm:DeleteParameters', effect: 'error', error: 'ThrottlingException', times: 'always' });
    const first = await removeNode(removeDeps(), state);
    expect(first.retry).toBe(true);
    expect(first.requestIds).toEqual(['gpu-node-12-poc-3', 'gpu-node-12-seeded']);
    // Kept while its request's parameters are left; gone by some other hand before the next try.
    expect(estate.state.activations[id]).toBeDefined();
    delete estate.state.activations[id];
    estate.clearFaults();

    const second = await removeNode(removeDeps(), {
      ...state,
      remove: { attempt: first.attempt, actions: first.actions, requestIds: first.requestIds },
    });
    expect(second.left).toEqual([]);
    expect(estate.state.parameters[name]).toBeUndefined();
    expect(second.actions).toContainEqual({
      action: 'delete-parameters',
      resource: `${PREFIX}/onboarding/gpu-node-12-poc-3`,
      outcome: 'deleted 1',
    });
  });

  it('reports a node that was gone when the run looked', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    delete estate.state.nodes[GPU_NODE_02];
    delete estate.state.instances[GPU_NODE_02];
    const prepared = await prepare(input);
    const result = await removeNode(removeDeps(), { ...input, prepare: prepared });
    expect(result.outcome).toBe('already-gone');
    expect(result.notification.subject).toBe(`[OK] gpu-node-12 was already gone from ${CLUSTER}`);
  });
});

describe('cleanUpOffboarding', () => {
  const failed = (error: string, cause: string) => ({
    Error: error,
    Cause: JSON.stringify({ errorType: error, errorMessage: cause }),
  });

  it('after a blocked drain: the node is back in service, the lock released, the pods named', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    const prepared = await prepare(input);
    const result = await cleanUpOffboarding(cleanupDeps(), {
      ...input,
      prepare: prepared,
      cordon: { wasCordoned: false },
      drain: { done: false, evicting: [], blocked: [{ namespace: 'db', name: 'pg-0', reason: 'PDB pg' }], forced: [] },
      uncordon: { uncordoned: true },
      failure: failed(
        'DrainBlockedError',
        'Pods db/pg-0 would not leave. Fix: force: true, or fix the PodDisruptionBudget.',
      ),
    });
    expect(lockValue()).toBeNull();
    expect(result).toMatchObject({ step: 'DrainNode', error: 'DrainBlockedError', left: [], retry: false });
    expect(result.notification.subject).toBe(
      '[CRITICAL] gpu-node-12 offboarding failed, back in service: DrainBlockedError at DrainNode',
    );
    expect(result.notification.message).toContain('What happened: Pods db/pg-0 would not leave.');
    expect(result.notification.message).toContain('How to fix: force: true, or fix the PodDisruptionBudget.');
    expect(result.notification.message).toContain('the node is back in service and nothing else was changed');
    expect(result.actions).toContainEqual({
      action: 'uncordon',
      resource: GPU_NODE_02,
      outcome: 'uncordoned: back in service',
    });
  });

  it('says so when the node is left cordoned: uncordoning failed, or it was cordoned before', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    const prepared = await prepare(input);
    const node = estate.state.nodes[GPU_NODE_02];
    if (node) node.unschedulable = true;
    const uncordonFailed = await cleanUpOffboarding(cleanupDeps(), {
      ...input,
      prepare: prepared,
      cordon: { wasCordoned: false },
      uncordonFailure: failed('KubernetesApiError', 'HTTP 403. Fix: apply the RBAC.'),
      failure: failed('Lambda.Unknown', 'crashed'),
    });
    expect(uncordonFailed.notification.subject).toMatch(
      /^\[CRITICAL\] gpu-node-12 offboarding failed, left cordoned \(1 left\): Lambda.Unknown at DrainNode$/,
    );
    expect(uncordonFailed.left).toEqual([
      expect.objectContaining({ kind: 'cordon', resource: GPU_NODE_02, remove: `kubectl uncordon ${GPU_NODE_02}` }),
    ]);

    const before = await cleanUpOffboarding(cleanupDeps(), {
      ...input,
      prepare: { ...prepared, node: { ...prepared.node, unschedulable: true } },
      cordon: { wasCordoned: true },
      failure: failed('Lambda.Unknown', 'crashed'),
    });
    expect(before.notification.subject).toMatch(
      /^\[CRITICAL\] gpu-node-12 offboarding failed, left cordoned: Lambda.Unknown at DrainNode$/,
    );
    expect(before.notification.message).toContain(
      `keep-cordon ${GPU_NODE_02}: left cordoned: it was cordoned before this offboarding began (kubectl uncordon ${GPU_NODE_02} puts it back in service)`,
    );
  });

  it('after the drain: the node stays cordoned, and what is left comes with the commands that finish it', async () => {
    const state = await drained();
    const node = estate.state.nodes[GPU_NODE_02];
    if (node) node.unschedulable = true;
    const result = await cleanUpOffboarding(cleanupDeps(), {
      ...state,
      commandCheck: undefined,
      failure: failed('NodeCommandFailedError', 'nodeadm uninstall Failed (exit 1): pods remain. Fix: drain it.'),
    });
    expect(result.step).toBe('CheckNodeCommand');
    expect(result.left.map((l) => [l.kind, l.remove])).toEqual([
      ['host', 'sudo nodeadm uninstall --force'],
      ['node', `kubectl delete node ${GPU_NODE_02}`],
      ['managed-instance', `aws ssm deregister-managed-instance --region ${REGION} --instance-id ${GPU_NODE_02}`],
    ]);
    expect(result.notification.subject).toBe(
      '[CRITICAL] gpu-node-12 offboarding failed, left cordoned (3 left): NodeCommandFailedError at Che...',
    );
    expect(result.notification.message).toContain('its Node was not deleted, so it still bills 590.82 USD a day');
    expect(result.notification.message).toContain(`to keep it instead: kubectl uncordon ${GPU_NODE_02}`);
    expect(lockValue()).toBeNull();
  });

  it('after the drain, a Node it cannot read is left as what to check, with the commands either way, and tried again', async () => {
    const state = await drained();
    estate.injectFault({ on: 'kubernetes:GetNode', effect: 'error', error: '503', times: 'always' });
    const result = await cleanUpOffboarding(cleanupDeps(), {
      ...state,
      failure: failed('KubernetesApiError', 'HTTP 403 deleting the Node. Fix: apply the RBAC.'),
    });
    expect(result.step).toBe('RemoveNode');
    expect(result.left).toContainEqual(
      expect.objectContaining({
        kind: 'node',
        resource: GPU_NODE_02,
        remove: `kubectl delete node ${GPU_NODE_02}`,
        retryable: true,
      }),
    );
    expect(result.left.find((l) => l.kind === 'node')?.why).toContain(
      `to keep it instead: kubectl uncordon ${GPU_NODE_02}`,
    );
    expect(result.retry).toBe(true);
  });

  it('after a failed preparation: nothing changed, and a lock another run holds is left alone', async () => {
    const input = await offboardingInput(estate, 'gpu-node-12');
    const future = new Date(Date.now() + 3600_000).toISOString();
    await acquireNodeLock(
      runtimeOf(estate).clients.ssm,
      LOCK_02,
      { requestId: 'up-1', expiresAt: future, workflow: 'upgrade' },
      new Date(),
    );
    const result = await cleanUpOffboarding(cleanupDeps(), {
      ...input,
      failure: failed('NodeBusyError', 'The upgrade up-1 holds this node.'),
    });
    expect(result.step).toBe('PrepareOffboarding');
    expect(result.notification.message).toContain('Nothing was changed on the node.');
    expect(result.actions).toEqual([{ action: 'release-lock', resource: LOCK_02, outcome: 'not held' }]);
    expect(lockValue()).toMatchObject({ requestId: 'up-1' });
  });
});
