/**
 * Every domain error, in one file. Step Functions matches `ErrorEquals` against the thrown error's
 * `name`, so each class sets a literal name; `test/unit/errors.test.ts` checks that every name an
 * ASL file matches is exported here (or is a reserved `States.*` / `Lambda.*` name).
 *
 * A domain error says what is wrong and how to fix it: the message is what an on-prem team or an
 * operator reads in the API answer and in the SNS alert.
 */
export abstract class HybridOpsError extends Error {
  /** What the reader should do about it. Also appended to `message`, which is all Lambda carries. */
  readonly fix: string;

  protected constructor(name: string, problem: string, fix: string, options?: ErrorOptions) {
    super(`${problem} Fix: ${fix}`, options);
    this.name = name;
    this.fix = fix;
  }
}

/** Splits a message built by {@link HybridOpsError} back into problem and fix. */
export function splitFix(message: string): { problem: string; fix?: string } {
  const at = message.lastIndexOf(' Fix: ');
  return at < 0 ? { problem: message } : { problem: message.slice(0, at), fix: message.slice(at + ' Fix: '.length) };
}

const define = <N extends string>(name: N) =>
  class extends HybridOpsError {
    static readonly errorName: N = name;
    declare readonly name: N;
    constructor(problem: string, fix: string, options?: ErrorOptions) {
      super(name, problem, fix, options);
    }
  };

// Input
export class InvalidRequestError extends define('InvalidRequestError') {}

// Preflight
export class ClusterNotFoundError extends define('ClusterNotFoundError') {}
export class ClusterNotActiveError extends define('ClusterNotActiveError') {}
export class RemoteNetworkNotConfiguredError extends define('RemoteNetworkNotConfiguredError') {}
export class RemoteNetworkInvalidError extends define('RemoteNetworkInvalidError') {}
export class NodeIpOutsideRemoteNodeNetworkError extends define('NodeIpOutsideRemoteNodeNetworkError') {}
export class PodCidrOutsideRemotePodNetworkError extends define('PodCidrOutsideRemotePodNetworkError') {}
export class HybridAccessEntryMissingError extends define('HybridAccessEntryMissingError') {}
export class UnsupportedOperatingSystemError extends define('UnsupportedOperatingSystemError') {}
export class KubernetesVersionSkewError extends define('KubernetesVersionSkewError') {}
/**
 * SSM's activation tier (the `/ssm/managed-instance/activation-tier` service setting) could not be
 * read, for a reason no retry mends (access denied, an unknown value): the standard tier's limit
 * could not be checked. Never read as "advanced".
 */
export class ActivationTierUnreadableError extends define('ActivationTierUnreadableError') {}
export class OnboardingInProgressError extends define('OnboardingInProgressError') {}
/** An offboarding or upgrade holds the node's lock. */
export class NodeBusyError extends define('NodeBusyError') {}

// Activation
export class HybridRolePropagationError extends define('HybridRolePropagationError') {}
export class ActivationRejectedError extends define('ActivationRejectedError') {}
export class ActivationCodeMissingError extends define('ActivationCodeMissingError') {}

// Waiting for the server and its Node
export class RegistrationTimeoutError extends define('RegistrationTimeoutError') {}
export class NodeJoinTimeoutError extends define('NodeJoinTimeoutError') {}
export class NodeNotReadyError extends define('NodeNotReadyError') {}
export class NodeIdentityMismatchError extends define('NodeIdentityMismatchError') {}
export class KubernetesApiError extends define('KubernetesApiError') {}

// Node lifecycle (offboarding and upgrades)
/** No Kubernetes Node has that name in the cluster. */
export class NodeNotFoundError extends define('NodeNotFoundError') {}
/**
 * The Node is not a hybrid node of this cluster: it lacks `eks.amazonaws.com/compute-type=hybrid`,
 * or its managed instance lacks this cluster's `EKSClusterARN` tag.
 */
export class NotHybridNodeError extends define('NotHybridNodeError') {}
/** The drain's deadline passed with pods a PodDisruptionBudget will not let go, and no `force`. */
export class DrainBlockedError extends define('DrainBlockedError') {}
/** The SSM Run Command on the host ended Failed, TimedOut, Cancelled or Undeliverable, or SSM refused it. */
export class NodeCommandFailedError extends define('NodeCommandFailedError') {}
/** The SSM Run Command on the host had no result within its time. */
export class NodeCommandTimeoutError extends define('NodeCommandTimeoutError') {}
/** After `nodeadm upgrade`, the Node was not Ready at the target kubelet version in time. */
export class NodeUpgradeTimeoutError extends define('NodeUpgradeTimeoutError') {}
/** A rolling upgrade stopped at a node that failed: the execution's final error, so the alarm sees it. */
export class UpgradeStoppedError extends define('UpgradeStoppedError') {}
/** More nodes to upgrade than one execution's history can hold (lib/upgrades/limits.ts): split the rollout. */
export class UpgradeTooLargeError extends define('UpgradeTooLargeError') {}

// Fleet onboarding
/** A fleet ended with a server that failed (cleaned up, named with its fix): the execution's final error, so the alarm sees it. */
export class FleetIncompleteError extends define('FleetIncompleteError') {}

// Network reconciliation
export class InvalidDesiredStateError extends define('InvalidDesiredStateError') {}
export class EmptyDesiredStateError extends define('EmptyDesiredStateError') {}
export class NetworkActionsFailedError extends define('NetworkActionsFailedError') {}

// Nightly sweep
/** The sweep's bucket is not configured, or an object one step wrote is not there for the next. */
export class StoreError extends define('StoreError') {}

// Alerting
/** Some alerts were sent without SNS ever answering: they may or may not have gone out. */
export class AlertsUnconfirmedError extends define('AlertsUnconfirmedError') {}
/**
 * A publish failed while the record of what was sent could not be written: a retry would page
 * again, so the step stops, naming what went out (or may have) in its message.
 */
export class AlertsUnrecordedError extends define('AlertsUnrecordedError') {}
/**
 * The Fail state's error when a workflow's outcome alert could not be delivered: the run ends
 * FAILED so the alarm on failed executions catches it; the cause carries the undelivered alert.
 */
export class AlertDeliveryError extends define('AlertDeliveryError') {}

/** Throttling, 5xx and network faults from AWS, normalised so the ASL retries one name. */
export class AwsTransientError extends define('AwsTransientError') {}

// The API's refusals
/** What a refusal says besides its problem: what to do, what else the answer lists, when to ask again. */
export interface Refusal {
  fix?: string;
  details?: Record<string, unknown>;
  /** Seconds after which the same request may succeed. */
  retryAfterSeconds?: number;
}

/**
 * A request the API refuses: `problem` is the answer's message, `fix` (when there is more to say)
 * and `details` join it in the body. Domain modules throw these; functions/commons/http-answers.ts
 * gives each name its HTTP status, in one place.
 */
export abstract class RequestRefusedError extends Error {
  readonly problem: string;
  readonly fix?: string;
  readonly details: Record<string, unknown>;
  readonly retryAfterSeconds?: number;

  protected constructor(name: string, problem: string, refusal: Refusal = {}) {
    super(refusal.fix ? `${problem} Fix: ${refusal.fix}` : problem);
    this.name = name;
    this.problem = problem;
    this.fix = refusal.fix;
    this.details = refusal.details ?? {};
    this.retryAfterSeconds = refusal.retryAfterSeconds;
  }
}

const refusal = <N extends string>(name: N) =>
  class extends RequestRefusedError {
    static readonly errorName: N = name;
    declare readonly name: N;
    constructor(problem: string, details?: Refusal) {
      super(name, problem, details);
    }
  };

/** The request is malformed, or asks for what this stage does not do. */
export class RequestRejectedError extends refusal('RequestRejectedError') {}
/** No onboarding request has that id. */
export class RequestNotFoundError extends refusal('RequestNotFoundError') {}
/** Only the identity that submitted a request may fetch its NodeConfig. */
export class NotRequesterError extends refusal('NotRequesterError') {}
/** The onboarding has ended: its activation and NodeConfig are gone. */
export class OnboardingEndedError extends refusal('OnboardingEndedError') {}
/** The NodeConfig is not issued yet: ask again shortly. */
export class NodeConfigNotIssuedError extends refusal('NodeConfigNotIssuedError') {}
/** A client token already used for a different request. */
export class ClientTokenReusedError extends refusal('ClientTokenReusedError') {}
/** Another run (an onboarding, offboarding or upgrade) holds the node's lock. */
export class NodeLockedError extends refusal('NodeLockedError') {}

/** Every refusal's name, for the table that gives each its HTTP status. */
export type RefusalName =
  | typeof RequestRejectedError.errorName
  | typeof RequestNotFoundError.errorName
  | typeof NotRequesterError.errorName
  | typeof OnboardingEndedError.errorName
  | typeof NodeConfigNotIssuedError.errorName
  | typeof ClientTokenReusedError.errorName
  | typeof NodeLockedError.errorName;

// Sandbox
export class SandboxNotImplementedError extends define('SandboxNotImplementedError') {}
export class SandboxStateError extends define('SandboxStateError') {}

/** Names the workflows may match in `ErrorEquals`, besides `States.*` and `Lambda.*`. */
export const ERROR_NAMES: readonly string[] = [
  InvalidRequestError,
  ClusterNotFoundError,
  ClusterNotActiveError,
  RemoteNetworkNotConfiguredError,
  RemoteNetworkInvalidError,
  NodeIpOutsideRemoteNodeNetworkError,
  PodCidrOutsideRemotePodNetworkError,
  HybridAccessEntryMissingError,
  UnsupportedOperatingSystemError,
  KubernetesVersionSkewError,
  ActivationTierUnreadableError,
  OnboardingInProgressError,
  NodeBusyError,
  HybridRolePropagationError,
  ActivationRejectedError,
  ActivationCodeMissingError,
  RegistrationTimeoutError,
  NodeJoinTimeoutError,
  NodeNotReadyError,
  NodeIdentityMismatchError,
  KubernetesApiError,
  NodeNotFoundError,
  NotHybridNodeError,
  DrainBlockedError,
  NodeCommandFailedError,
  NodeCommandTimeoutError,
  NodeUpgradeTimeoutError,
  UpgradeStoppedError,
  UpgradeTooLargeError,
  FleetIncompleteError,
  InvalidDesiredStateError,
  EmptyDesiredStateError,
  NetworkActionsFailedError,
  StoreError,
  AlertsUnconfirmedError,
  AlertDeliveryError,
  AwsTransientError,
  SandboxNotImplementedError,
  SandboxStateError,
].map((c) => c.errorName);

/**
 * SNS publish errors that no retry can mend (the message, the topic or the permission is wrong),
 * as Step Functions' sns:publish integration names them (`SNS.<Code>Exception`). Every other
 * SNS error is retried.
 */
export const SNS_PERMANENT_ERRORS: readonly string[] = [
  'SNS.InvalidParameterException',
  'SNS.InvalidParameterValueException',
  'SNS.AuthorizationErrorException',
  'SNS.NotFoundException',
];

/**
 * Errors of Step Functions' own StartExecution integration (`states:startExecution.sync:2`) that a
 * later try can pass: too many running executions, throttling. A Task names an API error
 * `StepFunctions.<Code>Exception` (the ASL interpreter of LocalStack/moto, `state_task_service_sfn.py`,
 * snapshot-tested against AWS). A child that failed is `States.TaskFailed`, never retried: its own
 * cleanup has run.
 */
export const SFN_TRANSIENT_ERRORS: readonly string[] = [
  'StepFunctions.ExecutionLimitExceededException',
  'StepFunctions.ThrottlingException',
];

const TRANSIENT_NAMES = new Set([
  'AwsTransientError',
  'ThrottlingException',
  'TooManyUpdates',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/**
 * True for an AWS answer that a later try can succeed on: throttling, a 5xx, a dropped
 * connection. The SDK has already retried these (adaptive mode) by the time one reaches us.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string };
  if (TRANSIENT_NAMES.has(error.name) || (meta.code !== undefined && TRANSIENT_NAMES.has(meta.code))) return true;
  if (meta.$retryable) return true;
  const status = meta.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}
