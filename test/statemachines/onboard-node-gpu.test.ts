import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun, SILENT } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import type { LambdaFault } from '#cli/run-control';
import { onboardNode } from '#cli/workflows/onboard-node';
import type { OnboardingSummary } from '#lib/onboarding/finish';
import type { OnboardingInput } from '#lib/onboarding/state';
import type { SandboxEstate } from '#lib/sandbox/estate';
import type { FaultSpec } from '#lib/sandbox/faults';
import { kubernetesOf } from '#lib/sandbox/workloads';

/**
 * GPU verification in the real onboard-node workflow on the sandbox estate: each verdict, the
 * nvidia-smi smoke test, faults in the GPU steps (never failing a joined node), and fleet members,
 * which publish nothing of their own.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-gpu-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const request = (): Record<string, unknown> & { gpu: Record<string, unknown> } =>
  JSON.parse(readFileSync(EVENT, 'utf8'));

async function onboard(
  options: {
    scenario?: string;
    body?: Record<string, unknown>;
    faults?: FaultSpec[];
    lambdaFaults?: LambdaFault[];
    fleet?: { fleetId: string; index: number };
  } = {},
) {
  const local = localRuntime('sandbox', home, {}, { scenario: options.scenario ?? 'joins' });
  const estate = local.estate as SandboxEstate;
  for (const fault of options.faults ?? []) estate.injectFault(fault);
  const sent = estate.outbox.length;
  const wrapped = options.fleet
    ? {
        ...onboardNode,
        async prepare(text: string, l: typeof local) {
          const prepared = await onboardNode.prepare(text, l);
          return prepared.ok
            ? { ...prepared, input: { ...(prepared.input as object), fleet: options.fleet } }
            : prepared;
        },
      }
    : onboardNode;
  const { input, result } = await prepareAndRun(
    wrapped,
    local,
    JSON.stringify(options.body ?? request()),
    SILENT,
    options.lambdaFaults,
  );
  estate.clearFaults();
  const pods = Object.values(kubernetesOf(estate.state).pods).filter(
    (p) => p.namespace === 'hybridops-gpu-checks' && !p.deletionTimestamp,
  );
  return {
    result,
    estate,
    alerts: estate.outbox.slice(sent),
    requestId: (input as OnboardingInput).requestId,
    summary: result.output as OnboardingSummary,
    pods,
  };
}

describe('onboard-node: GPU verification', () => {
  it('verifies all 8 GPUs once the device plugin registers them, and passes the smoke test', async () => {
    const { result, summary, alerts, pods, requestId } = await onboard();

    expect(result.status).toBe('SUCCEEDED');
    expect(summary.gpu).toMatchObject({ requested: 8, allocatable: 8, capacity: 8, verdict: 'verified' });
    expect(summary.gpu?.smokeTest).toMatchObject({
      outcome: 'passed',
      namespace: 'hybridops-gpu-checks',
      pod: `gpu-smoke-${requestId}`,
    });
    expect(summary.gpu?.smokeTest?.logHead).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Driver Version: 550.127.05'),
        expect.stringContaining('NVIDIA H100 80GB HBM3'),
      ]),
    );
    // One GPU visible to the container: its limit.
    expect(summary.gpu?.smokeTest?.logHead.filter((l) => l.includes('NVIDIA H100'))).toHaveLength(1);
    expect(summary.brief).toEqual({
      status: 'joined',
      nodeName: 'gpu-node-01',
      instanceId: summary.instanceId,
      gpuAllocatable: 8,
      gpuVerdict: 'verified',
      warnings: [],
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(/; 8\/8 GPUs verified$/);
    expect(alerts[0]?.message).toContain('Smoke test (nvidia-smi in pod hybridops-gpu-checks/');
    expect(pods).toEqual([]);
  });

  it('ends joined with a warning naming the device plugin when none runs on the node', async () => {
    const { result, summary, alerts, pods } = await onboard({ scenario: 'no-device-plugin' });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.filter((s) => s === 'CheckGpus').length).toBeGreaterThan(5);
    expect(result.visited).not.toContain('StartSmokeTest');
    expect(summary.gpu).toMatchObject({ verdict: 'no-device-plugin', allocatable: 0, capacity: 0 });
    expect(summary.gpu?.detail).toContain('the NVIDIA device plugin or the GPU operator is not running on it');
    expect(summary.gpu?.detail).toContain(
      'NVIDIA driver 550.x or newer, containerd 1.6 or newer and the NVIDIA Container Toolkit',
    );
    expect(summary.brief).toMatchObject({ status: 'warning', gpuAllocatable: 0, gpuVerdict: 'no-device-plugin' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(
      /^\[WARNING\] gpu-node-01 \(mi-[0-9a-f]{17}\) joined gpu-hybrid-cluster; GPUs: no device plugin$/,
    );
    expect(alerts[0]?.attributes.severity).toBe('warning');
    expect(pods).toEqual([]);
  });

  it('reports GPUs missing on a host that shows 6 of the 8 asked for', async () => {
    const { result, summary, alerts } = await onboard({ scenario: 'fewer-gpus' });

    expect(result.status).toBe('SUCCEEDED');
    expect(summary.gpu).toMatchObject({ verdict: 'gpus-missing', allocatable: 6, capacity: 6, requested: 8 });
    expect(summary.gpu?.detail).toContain('shows 6 of 8 GPUs allocatable');
    expect(summary.gpu?.detail).toContain('run nvidia-smi');
    expect(summary.brief.warnings).toEqual([expect.stringContaining('GPUs missing on')]);
    expect(alerts[0]?.subject).toMatch(/; only 6\/8 GPUs$/);
  });

  it('keeps the log of a failed nvidia-smi, deletes its pod, and warns', async () => {
    const { result, summary, alerts, pods } = await onboard({ scenario: 'smoke-test-fails' });

    expect(result.status).toBe('SUCCEEDED');
    expect(summary.gpu?.verdict).toBe('verified');
    expect(summary.gpu?.smokeTest).toMatchObject({
      outcome: 'failed',
      logHead: ['Failed to initialize NVML: Driver/library version mismatch', 'NVML library version: 550.144'],
    });
    expect(summary.gpu?.smokeTest?.detail).toContain('exited 1');
    expect(summary.brief.status).toBe('warning');
    expect(alerts[0]?.subject).toMatch(/; GPU smoke test failed$/);
    expect(pods).toEqual([]);
  });

  it('runs no smoke test unless asked', async () => {
    const body = request();
    delete body.gpu.smokeTest;
    const { result, summary } = await onboard({ body });

    expect(result.visited).toContain('CheckGpus');
    expect(result.visited).not.toContain('StartSmokeTest');
    expect(summary.gpu).toMatchObject({ verdict: 'verified' });
    expect(summary.gpu?.smokeTest).toBeUndefined();
  });

  it('does not check the GPUs of a node that stays NotReady, and says so', async () => {
    const { result, summary } = await onboard({ scenario: 'stays-not-ready' });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).not.toContain('CheckGpus');
    expect(summary.gpu).toMatchObject({ verdict: 'not-checked', allocatable: null });
    expect(summary.brief).toMatchObject({ status: 'warning', gpuVerdict: 'not-checked' });
  });

  it('never fails or undoes a joined node when the GPU check cannot run: not-checked, a warning', async () => {
    const every = (state: string): LambdaFault[] =>
      [1, 2, 3].map((attempt) => ({ state, attempt, error: 'Lambda.Unknown' as const, afterWork: false }));
    const { result, summary, estate } = await onboard({ lambdaFaults: every('CheckGpus') });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).not.toContain('CleanUpOnboarding');
    expect(summary.gpu).toMatchObject({ verdict: 'not-checked' });
    expect(summary.gpu?.detail).toContain('The GPU check could not run (Lambda.Unknown');
    expect(estate.state.nodes[summary.instanceId]?.ready.status).toBe('True');
  });

  it('deletes the smoke-test pod in Finish when the smoke test could not finish', async () => {
    const { result, summary, pods } = await onboard({
      faults: [{ on: 'kubernetes:GetPod', effect: 'error', error: '503', times: 'always' }],
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.filter((s) => s === 'CheckSmokeTest').length).toBeGreaterThan(0);
    expect(summary.gpu?.smokeTest).toMatchObject({ outcome: 'failed' });
    expect(summary.cleanup).toContainEqual(expect.objectContaining({ action: 'delete-pod', outcome: 'deleted' }));
    expect(pods).toEqual([]);
  });
});

describe('onboard-node: a fleet member', () => {
  it('publishes nothing when it joins, and ends with the same summary', async () => {
    const { result, alerts, summary } = await onboard({ fleet: { fleetId: 'fleet-poc-0123456789ab', index: 3 } });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.slice(-2)).toEqual(['ReportJoined', 'MemberJoined']);
    expect(result.visited).not.toContain('NotifySuccess');
    expect(alerts).toEqual([]);
    expect(summary).toMatchObject({ outcome: 'joined', brief: { status: 'joined', gpuVerdict: 'verified' } });
  });

  it('publishes nothing when it fails, failing with the error and the fix in its cause', async () => {
    const { result, alerts } = await onboard({
      scenario: 'registers-no-node',
      fleet: { fleetId: 'fleet-poc-0123456789ab', index: 0 },
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('NodeJoinTimeoutError');
    expect(result.error?.cause).toContain('Fix:');
    expect(result.visited.slice(-2)).toEqual(['ReportFailed', 'Failed']);
    expect(alerts).toEqual([]);
  });

  it('leaves a run that is not a member unchanged: one message each way', async () => {
    const joined = await onboard();
    const failed = await onboard({ scenario: 'registers-no-node' });

    expect(joined.alerts).toHaveLength(1);
    expect(failed.alerts).toHaveLength(1);
    expect(failed.result.visited.slice(-3)).toEqual(['ReportFailed', 'NotifyFailure', 'Failed']);
  });
});
