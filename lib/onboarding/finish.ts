import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../clock';
import type { KubeApiFactory } from '../kube/types';
import { gpuCheckNamespace, type Settings } from '../settings';
import { lines, type Notification, snsSubject } from '../notifications';
import { type GpuVerification, gpuLines, gpuVerification, gpuWarnings } from './gpu-summary';
import { type GpuVerdict, smokeTestPodName } from './gpu-verification';
import type { OnboardingRequest } from './request';
import type { OnboardingState } from './state';
import { afterTry, type CleanupAction, type EarlierTry, type Leftover, leftoverLines, tidyRequest } from './tidy';

export type { GpuVerdict } from './gpu-verification';

/**
 * The few facts a fleet (or anyone reading many results) needs of one onboarding. Always present,
 * also in the workflow's last-resort summary (SummarizeFinishFailure).
 */
export interface OnboardingBrief {
  /** `warning`: NotReady, GPUs not verified, the smoke test failed, or something left behind. */
  status: 'joined' | 'warning';
  /** The server's name (request.node.name). */
  nodeName: string;
  /** The Node's name (mi-...). */
  instanceId: string;
  /** null: no GPU asked for, or never read. */
  gpuAllocatable: number | null;
  /** null: no GPU asked for. */
  gpuVerdict: GpuVerdict | null;
  /** Each one sentence with its fix, at most 400 characters. */
  warnings: string[];
}

/** A warning of the brief: one sentence, at most 400 characters. */
export const briefWarning = (text: string) => (text.length <= 400 ? text : `${text.slice(0, 397)}...`);

/**
 * A leftover as a brief's warning: shortened in its reason, never in its command, which is the only
 * place a fleet member's leftover is named (a command longer than the bound is kept whole).
 */
export function leftoverWarning(l: Pick<Leftover, 'kind' | 'resource' | 'why' | 'remove'>): string {
  const tail = `; remove it with: ${l.remove}`;
  const head = `Left: ${l.kind} ${l.resource} (${l.why})`;
  const room = Math.max(0, 400 - tail.length);
  return `${head.length <= room ? head : `${head.slice(0, Math.max(0, room - 4))}...)`}${tail}`;
}

export interface OnboardingSummary {
  /** `joined-cleanup-failed`: Finish could not run at all (the workflow's last-resort summary). */
  outcome: 'joined' | 'joined-not-ready' | 'joined-cleanup-failed';
  /** Set with joined-cleanup-failed: the Node's phase when it was seen, and Finish's error. */
  nodePhase?: string;
  finishError?: string;
  requestId: string;
  cluster: string;
  nodeName: string;
  instanceId: string;
  ipAddress: string;
  platform?: string;
  /** Seconds spent in each phase (not with joined-cleanup-failed: only Finish computes them). */
  timings?: {
    preflight: number;
    issueActivation: number;
    renderNodeConfig: number;
    waitingForRegistration: number;
    waitingForNode: number;
    /** From Ready to the end: the GPUs' verification and the smoke test (GPU requests only). */
    verifyingGpus?: number;
    total: number;
  };
  hint?: string;
  /** What the end of the run removed (the activation, the stored code, the lock)... */
  cleanup: CleanupAction[];
  /** ...and what it could not, each with the command that removes it: a warning, not a failure. */
  left: Leftover[];
  /** Present iff the request asked for GPUs: what the GPU check and the smoke test found. */
  gpu?: GpuVerification;
  brief: OnboardingBrief;
  notification: Notification;
}

/**
 * One try of Finish: the summary, and whether the workflow waits and tries the cleanup again.
 * One flat object, so an execution started on an earlier version (which reads the summary's
 * fields at the top of Finish's result) still reads it.
 */
export type FinishRun = OnboardingSummary & { attempt: number; retry: boolean; nextWaitSeconds: number };

const seconds = (from?: string, to?: string) =>
  from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)) : 0;

/**
 * Ends a successful onboarding: the single-use activation and its stored code are deleted (the
 * server has registered; nothing else may), the node lock is released, and the summary and the
 * operators' notification are built. The node has joined whatever happens here: what cannot be
 * removed makes it a success with a warning that names what is left, never a failure.
 */
export async function finishOnboarding(
  deps: {
    ssm: SSMClient;
    /** To delete the GPU smoke test's pod, if the request asked for one and it may be there. */
    nodes?: KubeApiFactory;
    clock: Clock;
    settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region' | 'gpuCheckNamespace'>;
  },
  state: Required<Pick<OnboardingState, 'preflight' | 'activation' | 'registration' | 'node'>> &
    OnboardingState & { finish?: EarlierTry },
  request: OnboardingRequest,
): Promise<FinishRun> {
  const tidied = await tidyWith(
    deps,
    {
      requestId: state.requestId,
      cluster: request.cluster,
      nodeName: request.node.name,
      activationId: state.activation.activationId,
      clusterAccess: state.preflight.clusterAccess,
      mode: 'joined',
      ...(request.gpu?.smokeTest && state.smokeTest?.deleted !== true
        ? {
            smokeTestPod: {
              namespace: state.smokeTest?.namespace ?? gpuCheckNamespace(deps.settings),
              name: state.smokeTest?.pod ?? smokeTestPodName(state.requestId),
            },
          }
        : {}),
    },
    deps.nodes,
  );
  const { attempt, cleanup, left, retry, nextWaitSeconds } = afterTry(state.finish, tidied);

  const finishedAt = deps.clock.now().toISOString();
  const instance = state.registration.instance;
  const instanceId = instance?.instanceId ?? state.node.name ?? '';
  const settledAt = state.node.readyAt ?? finishedAt;
  const timings = {
    preflight: seconds(state.preflight.startedAt, state.preflight.checkedAt),
    issueActivation: seconds(state.preflight.checkedAt, state.activation.issuedAt),
    renderNodeConfig: seconds(state.activation.issuedAt, state.nodeConfig?.renderedAt),
    // From the NodeConfig being ready to SSM's own registration time of the server.
    waitingForRegistration: seconds(state.nodeConfig?.renderedAt ?? state.activation.issuedAt, instance?.registeredAt),
    waitingForNode: seconds(instance?.registeredAt, settledAt),
    ...(request.gpu ? { verifyingGpus: seconds(settledAt, finishedAt) } : {}),
    total: seconds(state.preflight.startedAt, finishedAt),
  };
  const ready = state.node.phase === 'ready';
  const outcome = ready ? 'joined' : 'joined-not-ready';
  const gpu = gpuVerification(state, request);
  const warnings = [
    ...(ready
      ? []
      : [
          briefWarning(
            state.node.hint ?? `Node ${instanceId} is NotReady: ${state.node.condition ?? 'no Ready condition'}.`,
          ),
        ]),
    ...(gpu ? gpuWarnings(gpu, instanceId).map(briefWarning) : []),
    // One per leftover, with its command: a fleet member has no message of its own to carry them.
    ...left.map(leftoverWarning),
  ];
  // A GPU problem takes the subject's room (SNS allows 99 characters); verified GPUs only when nothing else does.
  const gpuProblem =
    !gpu || !ready
      ? undefined
      : gpu.verdict === 'no-device-plugin'
        ? 'GPUs: no device plugin'
        : gpu.verdict === 'gpus-missing'
          ? `only ${gpu.allocatable ?? 0}/${gpu.requested} GPUs`
          : gpu.verdict === 'not-checked'
            ? 'GPUs not checked'
            : gpu.smokeTest && gpu.smokeTest.outcome !== 'passed'
              ? `GPU smoke test ${gpu.smokeTest.outcome}`
              : undefined;
  const gpuNote =
    gpu && ready && !gpuProblem && !left.length ? `; ${gpu.allocatable}/${gpu.requested} GPUs verified` : '';
  const leftNote = left.length ? `; ${left.length} left` : '';
  const who = `${request.node.name} (${instanceId}) joined ${request.cluster}`;
  const subject = !ready
    ? `[WARNING] ${who} but is NotReady: no CNI${leftNote}`
    : gpuProblem
      ? `[WARNING] ${who}; ${gpuProblem}${leftNote}`
      : `[${warnings.length ? 'WARNING' : 'OK'}] ${who} and is Ready${gpuNote}${leftNote}`;
  const message = [
    ready
      ? `Hybrid node ${request.node.name} joined cluster ${request.cluster} and is Ready.`
      : `Hybrid node ${request.node.name} joined cluster ${request.cluster} but is NotReady.`,
    '',
    lines([
      ['Request', state.requestId],
      ['Requested by', state.requester],
      ['Kubernetes Node', instanceId],
      ['IP', request.node.ip],
      ['Platform', instance?.platform],
      ['Condition', ready ? undefined : state.node.condition],
      ['Preflight', `${timings.preflight} s`],
      ['Issuing the activation', `${timings.issueActivation} s`],
      ['Rendering the NodeConfig', `${timings.renderNodeConfig} s`],
      ['Time to register', `${timings.waitingForRegistration} s`],
      ['Time to Node', `${timings.waitingForNode} s`],
      ['Verifying the GPUs', timings.verifyingGpus === undefined ? undefined : `${timings.verifyingGpus} s`],
      ['Total', `${timings.total} s`],
    ]),
    ...(state.node.hint ? ['', `What to do: ${state.node.hint}`] : []),
    ...(gpu ? ['', ...gpuLines(gpu)] : []),
    ...(left.length
      ? leftoverLines(left, attempt)
      : ['', 'The activation and its code have been deleted, and the node lock released.']),
  ].join('\n');
  const summary: OnboardingSummary = {
    outcome,
    requestId: state.requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
    instanceId,
    ipAddress: request.node.ip,
    platform: instance?.platform,
    timings,
    hint: state.node.hint,
    cleanup,
    left,
    ...(gpu ? { gpu } : {}),
    brief: {
      status: warnings.length ? 'warning' : 'joined',
      nodeName: request.node.name,
      instanceId,
      gpuAllocatable: gpu?.allocatable ?? null,
      gpuVerdict: gpu?.verdict ?? null,
      warnings,
    },
    notification: {
      subject: snsSubject(subject),
      message,
      severity: warnings.length ? 'warning' : 'info',
      cluster: request.cluster,
      check: 'onboarding',
    },
  };
  return { ...summary, attempt, retry, nextWaitSeconds };
}

/** The tidy-up of a joined node, with the Kubernetes API to delete the smoke test's pod. */
const tidyWith = (
  deps: { ssm: SSMClient; settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'> },
  target: Parameters<typeof tidyRequest>[1],
  pods: KubeApiFactory | undefined,
) => tidyRequest({ ssm: deps.ssm, settings: deps.settings, ...(pods ? { pods } : {}) }, target);
