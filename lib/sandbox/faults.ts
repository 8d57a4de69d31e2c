import { AwsTransientError } from '../errors';
import { kubernetesFailure } from '../kube/eks-kube-api';
import type { ProbeSample } from '../net/probe';

/**
 * Faults the sandbox estate can inject, each shaped as the code would meet it in AWS, so a test or
 * the chaos tier can put the workflows through what production does to them:
 *
 * - `error`: AWS answered with this error (the SDK's own exception class when the service models
 *   it: ThrottlingException, AccessDeniedException, ParameterNotFound...).
 * - `network`: the request never reached AWS: a reset connection (`ECONNRESET`, as Node's socket
 *   raises it) or the SDK's request timeout (`TimeoutError`, as @smithy/node-http-handler raises
 *   it). Nothing changed in AWS.
 * - `lost-response`: AWS did the work, then the answer was lost on the way back (same errors as
 *   `network`). The caller cannot tell the two apart; only retrying idempotently is safe.
 *
 * Targets are `service:Command` for AWS (`ssm:CreateActivation`), and for the other seams the
 * sandbox stands in for: `kubernetes:<Verb>` (GetNode, ListNodes, PatchNode, DeleteNode, ListPods,
 * EvictPod, DeletePod; error: the HTTP status the API server answers, taken as the EKS client takes
 * it, so a 429 on EvictPod is a refusal; or a network fault, or a lost answer after the API server
 * acted), `dns:resolve4` (error: the resolver's error code,
 * such as ETIMEOUT or ESERVFAIL) and `probe:tcp` (error: the code every sample of that call fails
 * with, such as ETIMEDOUT: a path that drops for a moment).
 *
 * A fault counts the calls of its target made after it was injected (only those a given Task
 * makes, with `task`): it hits call `nth` (default 1, the next call) and the `times - 1` calls
 * after it (`'always'`: every call from then on).
 */
export interface FaultSpec {
  on: string;
  /** Only calls the named Task state's Lambda makes (the local runner says which Task calls). */
  task?: string;
  effect: 'error' | 'network' | 'lost-response';
  error: string;
  message?: string;
  nth?: number;
  times?: number | 'always';
}

/** A fault as the estate keeps it: the spec and how many calls of its target it has seen. */
export type SandboxFault = FaultSpec & { seen: number };

export const NETWORK_ERRORS = ['ECONNRESET', 'TimeoutError'] as const;

/** Counts one call of `target` (by `task`) against every fault on it; returns the fault that hits this call, if any. */
export function faultFor(faults: SandboxFault[], target: string, task?: string): SandboxFault | undefined {
  let hit: SandboxFault | undefined;
  for (const fault of faults) {
    if (fault.on !== target || (fault.task !== undefined && fault.task !== task)) continue;
    fault.seen += 1;
    const first = fault.nth ?? 1;
    const last = fault.times === 'always' ? Number.POSITIVE_INFINITY : first + (fault.times ?? 1) - 1;
    if (!hit && fault.seen >= first && fault.seen <= last) hit = fault;
  }
  return hit;
}

/**
 * The error the SDK raises when the connection fails, as @smithy/node-http-handler 4.x raises
 * it: Node's socket error renamed TimeoutError (code ECONNRESET) for a reset, and a TimeoutError
 * with code ETIMEDOUT for a request that got no answer in time. Its retry middleware then adds
 * `$metadata` with the attempts only (no HTTP status: nothing answered).
 */
export function sdkNetworkError(error: string, target: string): Error {
  const $metadata = { attempts: 1, totalRetryDelay: 0 };
  const timedOut = error === 'TimeoutError';
  const message = timedOut
    ? '@smithy/node-http-handler - the request socket timed out after 30000 ms of inactivity (configured by client requestHandler).'
    : `read ${error}`;
  return Object.assign(new Error(`${message} (sandbox fault on ${target})`), {
    name: 'TimeoutError',
    code: timedOut ? 'ETIMEDOUT' : error,
    ...(timedOut ? {} : { errno: -104, syscall: 'read' }),
    $metadata,
  });
}

/** What the EKS node reader throws for the same fault (lib/kube/eks-kube-api.ts). */
export function kubernetesFaultError(fault: SandboxFault, cluster: string, what: string): Error {
  if (fault.effect !== 'error') {
    return new AwsTransientError(
      `Cannot reach the Kubernetes API of ${cluster}: ${fault.error} (sandbox fault on ${fault.on}).`,
      'If the cluster endpoint is private, run the function in the cluster VPC (serverless.yml vpc).',
    );
  }
  const status = Number(fault.error);
  if (!Number.isInteger(status))
    throw new Error(`A ${fault.on} fault takes an HTTP status as its error, not ${fault.error}.`);
  return kubernetesFailure(cluster, status, fault.message ?? `sandbox fault on ${fault.on}`, what);
}

/** A probe call hit by a fault: every sample fails as the real prober reports a failed connect. */
export const faultedSamples = (fault: SandboxFault, samples: number): ProbeSample[] =>
  Array.from({ length: samples }, () => ({ ok: false, error: fault.error }));
