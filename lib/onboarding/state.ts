import * as z from 'zod';
import { CaughtErrorSchema } from '../caught-error';
import { ClusterAccessSchema } from '../kube/cluster-access';
import { GpuCheckStateSchema, SmokeTestStateSchema } from './gpu-verification';

/**
 * The shape of the onboarding workflow's state, part by part. Each Task gets the whole state and
 * validates the parts it reads; each part is written by one Task (its `ResultPath`). No part ever
 * holds the activation code: only the name of the parameter that does.
 */

/** A request id: the execution name and the Node label value, so 1-63 of [a-z0-9-]. */
export const REQUEST_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/**
 * Where the request's own resources are and the commands that remove them, fixed when it is
 * submitted: the workflow's last-resort alerts (built without any Lambda) quote them.
 */
export const RequestResourcesSchema = z.object({
  lockParameter: z.string(),
  parameterPath: z.string(),
  manualCleanup: z.object({ afterJoin: z.string(), afterFailure: z.string() }),
});
export type RequestResources = z.infer<typeof RequestResourcesSchema>;

export const OnboardingInputSchema = z.object({
  requestId: z.string().regex(REQUEST_ID),
  requester: z.string().min(1),
  requestDigest: z.string().min(1),
  request: z.unknown(),
  /** Optional to the Lambdas, which derive every name themselves: executions started before it existed lack it. */
  resources: RequestResourcesSchema.optional(),
  /**
   * Set when a fleet onboarding runs this execution as one of its members: the execution then
   * publishes nothing itself (the fleet sends one message for all). `index` counts from 0.
   */
  fleet: z.object({ fleetId: z.string().min(1), index: z.number().int().min(0) }).optional(),
});
export type OnboardingInput = z.infer<typeof OnboardingInputSchema>;

export const PreflightResultSchema = z.object({
  /** When preflight began and ended: the start of the onboarding, and of IssueActivation. */
  startedAt: z.string(),
  checkedAt: z.string(),
  clusterArn: z.string(),
  clusterVersion: z.string(),
  kubernetesVersion: z.string(),
  activationExpiresAt: z.string(),
  lockParameter: z.string(),
  clusterAccess: ClusterAccessSchema,
});
export type PreflightResult = z.infer<typeof PreflightResultSchema>;

export const ActivationResultSchema = z.object({
  activationId: z.string(),
  codeParameter: z.string(),
  expiresAt: z.string(),
  issuedAt: z.string(),
});
export type ActivationResult = z.infer<typeof ActivationResultSchema>;

export const NodeConfigResultSchema = z.object({
  parameterName: z.string(),
  renderedAt: z.string(),
  bytes: z.number(),
  commands: z.array(z.string()),
});
export type NodeConfigResult = z.infer<typeof NodeConfigResultSchema>;

export const ManagedInstanceSchema = z.object({
  instanceId: z.string(),
  platform: z.string().optional(),
  ipAddress: z.string().optional(),
  registeredAt: z.string(),
});
export type ManagedInstance = z.infer<typeof ManagedInstanceSchema>;

export const RegistrationStateSchema = z.object({
  registered: z.boolean(),
  attempt: z.number().int().min(0),
  nextWaitSeconds: z.number().int().min(0),
  instance: ManagedInstanceSchema.optional(),
});
export type RegistrationState = z.infer<typeof RegistrationStateSchema>;

export const NODE_PHASES = ['pending', 'ready', 'not-ready-no-cni'] as const;

export const NodeStateSchema = z.object({
  settled: z.boolean(),
  phase: z.enum(NODE_PHASES),
  attempt: z.number().int().min(0),
  nextWaitSeconds: z.number().int().min(0),
  /** When the Node was first seen NotReady, to give a CNI its grace period. */
  notReadySince: z.string().optional(),
  readyAt: z.string().optional(),
  name: z.string().optional(),
  internalIp: z.string().optional(),
  condition: z.string().optional(),
  hint: z.string().optional(),
});
export type NodeState = z.infer<typeof NodeStateSchema>;

/** The whole state as it stands after the last Task that ran. */
export const OnboardingStateSchema = OnboardingInputSchema.extend({
  preflight: PreflightResultSchema.optional(),
  activation: ActivationResultSchema.optional(),
  nodeConfig: NodeConfigResultSchema.optional(),
  registration: RegistrationStateSchema.optional(),
  node: NodeStateSchema.optional(),
  failure: CaughtErrorSchema.optional(),
  /** The GPU check (CheckGpus), when the request asked for GPUs and the Node turned Ready... */
  gpuCheck: GpuCheckStateSchema.optional(),
  /** ...what stopped it, if it could not run (the node stays joined). */
  gpuCheckFailure: CaughtErrorSchema.optional(),
  /** The nvidia-smi smoke test (StartSmokeTest, CheckSmokeTest), and what stopped it. */
  smokeTest: SmokeTestStateSchema.optional(),
  smokeTestFailure: CaughtErrorSchema.optional(),
});
export type OnboardingState = z.infer<typeof OnboardingStateSchema>;

/** The step the workflow was in, derived from which parts of the state exist. */
export function currentStep(state: OnboardingState): string {
  if (!state.preflight) return 'Preflight';
  if (!state.activation) return 'IssueActivation';
  if (!state.nodeConfig) return 'RenderNodeConfig';
  if (!state.registration?.registered) return 'WaitForRegistration';
  if (!state.node?.settled) return 'WaitForNode';
  return 'FinishOnboarding';
}
