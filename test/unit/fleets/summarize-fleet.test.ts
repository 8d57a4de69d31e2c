import { prepareMember } from '#lib/fleets/prepare-member';
import type { FleetManifest, MemberResult } from '#lib/fleets/state';
import { summarizeFleet } from '#lib/fleets/summarize-fleet';
import { memoryStore } from '#test/helpers/memory-store';

const FLEET = 'fleet-poc-0123456789ab';
const keys = { manifestKey: `fleets/${FLEET}/manifest.json`, resultKey: `fleets/${FLEET}/result.json` };

/** A manifest of `n` servers gpu-node-01.., each asking for 8 GPUs (the last: none when `cpuLast`). */
function manifest(n: number, cpuLast = false): FleetManifest {
  return {
    fleetId: FLEET,
    requestDigest: 'digest-1',
    requester: 'arn:aws:iam::111122223333:user/alice',
    cluster: 'gpu-hybrid-cluster',
    members: Array.from({ length: n }, (_, i) => {
      const name = `gpu-node-${String(i + 1).padStart(2, '0')}`;
      const gpu = cpuLast && i === n - 1 ? undefined : { vendor: 'nvidia', model: 'h100', count: 8 };
      return {
        index: i,
        name,
        requestId: `${name}-req`,
        input: {
          requestId: `${name}-req`,
          requester: 'alice',
          requestDigest: 'd',
          request: { cluster: 'gpu-hybrid-cluster', node: { name, ip: '192.168.10.1', os: 'ubuntu-22.04' }, gpu },
          fleet: { fleetId: FLEET, index: i },
          resources: {
            lockParameter: `/p/locks/${name}`,
            parameterPath: `/p/onboarding/${name}-req`,
            manualCleanup: { afterJoin: `- join commands of ${name}`, afterFailure: `- failure commands of ${name}` },
          },
        },
      };
    }),
  };
}

const joined = (
  i: number,
  over: Partial<Extract<MemberResult, { status: 'SUCCEEDED' }>['brief']> = {},
): MemberResult => {
  const name = `gpu-node-${String(i + 1).padStart(2, '0')}`;
  return {
    name,
    requestId: `${name}-req`,
    status: 'SUCCEEDED',
    brief: {
      status: 'joined',
      nodeName: name,
      instanceId: `mi-0000000000000000${i}`,
      gpuAllocatable: 8,
      gpuVerdict: 'verified',
      warnings: [],
      ...over,
    },
  };
};

async function summarize(results: MemberResult[], m = manifest(results.length)) {
  const { store } = memoryStore();
  await store.putJson(keys.manifestKey, m);
  const outcome = await summarizeFleet(
    { store, bucket: 'b' },
    { fleetId: FLEET, cluster: 'gpu-hybrid-cluster', requester: 'alice', ...keys, results },
  );
  return { outcome, store };
}

describe('SummarizeFleet', () => {
  it('counts a fleet where every server joined with its GPUs verified: one OK message', async () => {
    const { outcome, store } = await summarize(Array.from({ length: 10 }, (_, i) => joined(i)));
    expect(outcome.status).toBe('joined');
    expect(outcome.counts).toEqual({
      servers: 10,
      joined: 10,
      warning: 0,
      failed: 0,
      gpuVerified: 10,
      gpuServers: 10,
      gpusVerified: 80,
      gpusRequested: 80,
    });
    expect(outcome.notification.subject).toBe(`[OK] fleet ${FLEET}: 10 of 10 joined`);
    expect(outcome.notification.message).toContain('GPUs verified: 80 of 80');
    expect(outcome.nodes[0]).toEqual({
      name: 'gpu-node-01',
      requestId: 'gpu-node-01-req',
      nodeName: 'mi-00000000000000000',
      status: 'joined',
      gpuAllocatable: 8,
    });
    // The whole result, each server with its warnings and GPUs, is in the store.
    const stored = await store.getJson<{ nodes: Array<{ gpuRequested: number }> }>(keys.resultKey);
    expect(stored?.nodes).toHaveLength(10);
    expect(stored?.nodes[0]?.gpuRequested).toBe(8);
  });

  it('names a failed server with its error and fix from the child cause, and counts 72 of 80 GPUs', async () => {
    const results = Array.from({ length: 10 }, (_, i) => joined(i));
    results[6] = {
      name: 'gpu-node-07',
      requestId: 'gpu-node-07-req',
      status: 'FAILED',
      error: 'RegistrationTimeoutError',
      cause:
        'Failed at WaitForRegistration with RegistrationTimeoutError: The server did not register before the activation expired. Fix: Check the server reaches SSM, then submit again.',
    };
    const { outcome } = await summarize(results);
    expect(outcome.status).toBe('failed');
    expect(outcome.counts).toMatchObject({ joined: 9, failed: 1, gpusVerified: 72, gpusRequested: 80 });
    expect(outcome.headline).toContain('Failed: gpu-node-07 (RegistrationTimeoutError)');
    expect(outcome.notification.severity).toBe('critical');
    expect(outcome.notification.subject).toBe(`[CRITICAL] fleet ${FLEET}: 1 of 10 failed, 9 joined`);
    expect(outcome.notification.message).toContain(
      '- gpu-node-07 (request gpu-node-07-req): RegistrationTimeoutError at WaitForRegistration: The server did not register before the activation expired.',
    );
    expect(outcome.notification.message).toContain('  Fix: Check the server reaches SSM, then submit again.');
  });

  it('ends in the warning state naming the server whose GPUs never appeared, with its fix', async () => {
    const results = Array.from({ length: 10 }, (_, i) => joined(i));
    const warning =
      'gpu-node-03 shows 0 of 8 nvidia.com/gpu allocatable: the NVIDIA device plugin is not running. Fix: deploy it.';
    results[2] = joined(2, {
      status: 'warning',
      gpuAllocatable: 0,
      gpuVerdict: 'no-device-plugin',
      warnings: [warning],
    });
    const { outcome } = await summarize(results);
    expect(outcome.status).toBe('warning');
    expect(outcome.counts).toMatchObject({ joined: 9, warning: 1, failed: 0, gpuVerified: 9, gpusVerified: 72 });
    expect(outcome.notification.subject).toBe(`[WARNING] fleet ${FLEET}: 10 joined, 1 with warnings`);
    expect(outcome.notification.message).toContain(
      `- gpu-node-03 (mi-00000000000000002), 0 of 8 GPUs (no device plugin)`,
    );
    expect(outcome.notification.message).toContain(`  ${warning}`);
  });

  it('counts a server without a GPU apart from the GPU servers', async () => {
    const results = [joined(0), joined(1, { gpuAllocatable: null, gpuVerdict: null })];
    const { outcome } = await summarize(results, manifest(2, true));
    expect(outcome.counts).toMatchObject({ gpuServers: 1, gpuVerified: 1, gpusRequested: 8, gpusVerified: 8 });
  });

  it("gives the member's remove-by-hand commands for what its cleanup left", async () => {
    const results = [joined(0), joined(1)];
    results[1] = {
      name: 'gpu-node-02',
      requestId: 'gpu-node-02-req',
      status: 'FAILED',
      error: 'NodeJoinTimeoutError',
      cause:
        'Failed at WaitForNode with NodeJoinTimeoutError: no Node. Fix: check kubelet. Left to remove: /p/locks/gpu-node-02.',
    };
    const { outcome } = await summarize(results);
    expect(outcome.notification.message).toContain(
      '  Remove by hand whatever of this is still there:\n  - failure commands of gpu-node-02',
    );
    expect(outcome.notification.message).not.toContain('commands of gpu-node-01');
  });

  it('reads a PrepareMember failure (a Lambda error) as its error and fix', async () => {
    const { outcome } = await summarize([
      {
        name: 'gpu-node-01',
        requestId: 'gpu-node-01-req',
        status: 'FAILED',
        error: 'StoreError',
        cause: JSON.stringify({ errorType: 'StoreError', errorMessage: 'The manifest is missing. Fix: Submit again.' }),
      },
    ]);
    expect(outcome.notification.message).toContain(
      '- gpu-node-01 (request gpu-node-01-req): StoreError: The manifest is missing.',
    );
    expect(outcome.notification.message).toContain('  Fix: Submit again.');
  });
});

describe('PrepareMember', () => {
  it("gives the member's onboard-node input from the manifest", async () => {
    const { store } = memoryStore();
    await store.putJson(keys.manifestKey, manifest(3));
    const input = await prepareMember(
      { store },
      {
        fleetId: FLEET,
        manifestKey: keys.manifestKey,
        requestDigest: 'digest-1',
        member: { index: 1, name: 'gpu-node-02', requestId: 'gpu-node-02-req' },
      },
    );
    expect(input.requestId).toBe('gpu-node-02-req');
    expect(input.fleet).toEqual({ fleetId: FLEET, index: 1 });
  });

  it('refuses a manifest another body under the same token wrote', async () => {
    const { store } = memoryStore();
    await store.putJson(keys.manifestKey, { ...manifest(3), requestDigest: 'another' });
    await expect(
      prepareMember(
        { store },
        {
          fleetId: FLEET,
          manifestKey: keys.manifestKey,
          requestDigest: 'digest-1',
          member: { index: 1, name: 'gpu-node-02', requestId: 'gpu-node-02-req' },
        },
      ),
    ).rejects.toMatchObject({ name: 'StoreError' });
  });
});
