import { describeCaughtError } from '../caught-error';
import type { GpuVerdict, SmokeTestState } from './gpu-verification';
import type { OnboardingRequest } from './request';
import type { OnboardingState } from './state';

/** What a finished onboarding found of the node's GPUs: present iff the request asked for GPUs. */
export interface GpuVerification {
  requested: number;
  /** `status.allocatable["nvidia.com/gpu"]` at the last look; null when never read. */
  allocatable: number | null;
  capacity: number | null;
  verdict: GpuVerdict;
  /** What was found, and for anything but `verified` what to deploy or check. */
  detail: string;
  /** The nvidia-smi pod, when the request asked for it and the GPUs were verified. */
  smokeTest?: {
    outcome: NonNullable<SmokeTestState['outcome']>;
    namespace: string;
    pod: string;
    detail?: string;
    /** The first lines of its log. */
    logHead: string[];
  };
}

const nodeOf = (state: OnboardingState) => state.registration?.instance?.instanceId ?? state.node?.name ?? 'the node';

const problemOf = (caught: NonNullable<OnboardingState['gpuCheckFailure']>) => {
  const e = describeCaughtError(caught);
  return `${e.name}: ${e.problem}`.slice(0, 200);
};

/** The GPU verification of a finished onboarding, from the parts of its state; undefined without a GPU request. */
export function gpuVerification(state: OnboardingState, request: OnboardingRequest): GpuVerification | undefined {
  if (!request.gpu) return undefined;
  const node = nodeOf(state);
  const requested = request.gpu.count;
  const check = state.gpuCheck;
  const readByHand = `kubectl get node ${node} -o jsonpath='{.status.allocatable.nvidia\\.com/gpu}'`;
  const seen = { allocatable: check?.allocatable ?? null, capacity: check?.capacity ?? null };
  let base: Omit<GpuVerification, 'smokeTest'>;
  if (check?.settled && check.verdict) {
    base = { requested, ...seen, verdict: check.verdict, detail: check.detail ?? '' };
  } else if (state.gpuCheckFailure) {
    const detail = `The GPU check could not run (${problemOf(state.gpuCheckFailure)}). Read the GPUs by hand: ${readByHand}`;
    base = { requested, ...seen, verdict: 'not-checked', detail };
  } else if (state.node?.phase !== 'ready') {
    const detail = `Node ${node} is NotReady, so the NVIDIA device plugin cannot run there yet; once it is Ready, read the GPUs: ${readByHand}`;
    base = { requested, ...seen, verdict: 'not-checked', detail };
  } else {
    base = {
      requested,
      ...seen,
      verdict: 'not-checked',
      detail: `The GPU check did not finish. Read the GPUs: ${readByHand}`,
    };
  }
  if (!request.gpu.smokeTest || base.verdict !== 'verified') return base;

  const test = state.smokeTest;
  if (test?.done && test.outcome) {
    return {
      ...base,
      smokeTest: {
        outcome: test.outcome,
        namespace: test.namespace,
        pod: test.pod,
        ...(test.detail ? { detail: test.detail } : {}),
        logHead: test.logHead ?? [],
      },
    };
  }
  const why = state.smokeTestFailure ? problemOf(state.smokeTestFailure) : 'it did not finish';
  return {
    ...base,
    smokeTest: {
      outcome: 'failed',
      namespace: test?.namespace ?? '',
      pod: test?.pod ?? '',
      detail: `The smoke test could not run (${why}); run nvidia-smi in a GPU pod on ${node} by hand.`,
      logHead: [],
    },
  };
}

/** The brief's warnings about the GPUs: one sentence each, with the fix. */
export function gpuWarnings(gpu: GpuVerification, node: string): string[] {
  const warnings: string[] = [];
  const seen = `${gpu.allocatable ?? 0} of ${gpu.requested} allocatable`;
  if (gpu.verdict === 'no-device-plugin') {
    warnings.push(
      `GPUs not verified on ${node} (${seen}): the NVIDIA device plugin or GPU operator is not running there; deploy it, with NVIDIA driver 550.x+, containerd 1.6+ and the NVIDIA Container Toolkit on the host.`,
    );
  } else if (gpu.verdict === 'gpus-missing') {
    warnings.push(
      `GPUs missing on ${node} (${seen}): run nvidia-smi on the host to see which GPUs it lacks, and dmesg for Xid errors.`,
    );
  } else if (gpu.verdict === 'not-checked') {
    warnings.push(`GPUs not checked on ${node}: ${gpu.detail}`);
  }
  const test = gpu.smokeTest;
  if (test && test.outcome !== 'passed') {
    const first = test.logHead.find((l) => l.trim());
    warnings.push(
      `The nvidia-smi smoke test ${test.outcome} on ${node}${first ? ` ("${first.trim()}")` : ''}: ${test.detail ?? 'check the NVIDIA driver and Container Toolkit on the host.'}`,
    );
  }
  return warnings;
}

/** The operators' message's GPU part: allocatable of requested, the verdict, the smoke test's first lines. */
export function gpuLines(gpu: GpuVerification): string[] {
  const out = [
    `GPUs: ${gpu.allocatable ?? 'not read'} of ${gpu.requested} allocatable (nvidia.com/gpu${gpu.capacity !== null ? `, ${gpu.capacity} in capacity` : ''}): ${gpu.verdict}`,
    ...(gpu.verdict === 'verified' ? [] : [gpu.detail]),
  ];
  const test = gpu.smokeTest;
  if (test) {
    out.push(`Smoke test (nvidia-smi in pod ${test.namespace}/${test.pod}): ${test.outcome}`);
    if (test.outcome !== 'passed' && test.detail) out.push(test.detail);
    if (test.logHead.length) out.push(...test.logHead.map((l) => `  | ${l}`));
  }
  return out;
}
