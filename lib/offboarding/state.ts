import * as z from 'zod';
import { CaughtErrorSchema } from '../caught-error';
import { ClusterAccessSchema } from '../kube/cluster-access';
import { OffboardingRequestSchema } from './request';

/**
 * The offboarding workflow's state, part by part. Each Task gets the whole state and validates the
 * parts it reads; each part is written by one Task (its `ResultPath`). The parts the shared node
 * steps write (cordon, drain, command) are read loosely: their shapes are theirs.
 */

/** A request id: the execution's name, so 1-63 of [a-z0-9-]. */
export const REQUEST_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/**
 * Fixed when the request is submitted: the lock's name, and what an operator runs when the
 * workflow's own cleanup cannot run at all (its last-resort alert, built without any Lambda,
 * quotes it).
 */
export const OffboardingResourcesSchema = z.object({
  lockParameter: z.string(),
  manualCleanup: z.string(),
});
export type OffboardingResources = z.infer<typeof OffboardingResourcesSchema>;

/** The node as `DELETE /nodes/{node}` resolved it. */
export const TargetNamesSchema = z.object({
  /** The Kubernetes Node's name (`mi-...` for SSM hybrid nodes). */
  nodeName: z.string().min(1),
  /** The name it was onboarded as, when it was onboarded through this project. */
  onboardedName: z.string().optional(),
});

export const OffboardingInputSchema = z.object({
  requestId: z.string().regex(REQUEST_ID),
  requester: z.string().min(1),
  requestDigest: z.string().min(1),
  request: OffboardingRequestSchema,
  target: TargetNamesSchema,
  resources: OffboardingResourcesSchema,
});
export type OffboardingInput = z.infer<typeof OffboardingInputSchema>;

/** Why `nodeadm uninstall` runs on the host, or why not. */
export const UNINSTALL_REASONS = [
  'host-online',
  'skipped-by-request',
  'host-offline',
  'not-registered',
  'no-managed-instance',
] as const;
export type UninstallReason = (typeof UNINSTALL_REASONS)[number];

export const PrepareResultSchema = z.object({
  startedAt: z.string(),
  preparedAt: z.string(),
  clusterArn: z.string(),
  clusterAccess: ClusterAccessSchema,
  nodeName: z.string(),
  onboardedName: z.string().optional(),
  node: z.object({
    /** The Node object exists (false: only a managed instance is left to deregister). */
    present: z.boolean(),
    /** Cordoned before this run came: a failure does not uncordon someone else's cordon. */
    unschedulable: z.boolean(),
    ready: z.string(),
    vcpus: z.number(),
    kubeletVersion: z.string().optional(),
    internalIp: z.string().optional(),
  }),
  instance: z.object({
    id: z.string(),
    registered: z.boolean(),
    pingStatus: z.string().optional(),
    /** The onboarding request that registered it: its parameters are looked for too. */
    requestId: z.string().optional(),
  }),
  lockParameter: z.string(),
  lockExpiresAt: z.string(),
  /** When the drain stops honouring PodDisruptionBudgets (and gives up, or with force deletes). */
  drainDeadline: z.string(),
  /**
   * Whether the Node is drained. Not when it is down (NotReady, its host not Online): its pods are
   * not running, their budgets can never allow an eviction, and deleting the Node lets Kubernetes
   * remove them (pod garbage collection) for their controllers to run elsewhere.
   */
  drain: z.object({ run: z.boolean(), reason: z.enum(['node-up', 'node-down']) }),
  /** Drain passes past which the workflow stops the drain: the deadline, then the grace for pods to go. */
  maxDrainPasses: z.number().int().positive(),
  force: z.boolean(),
  uninstall: z.object({ run: z.boolean(), reason: z.enum(UNINSTALL_REASONS) }),
  pricePerVcpuHour: z.number(),
  costPerDayUsd: z.number(),
});
export type PrepareResult = z.infer<typeof PrepareResultSchema>;

/** A pod as the drain names it. */
const PodRefSchema = z.looseObject({ namespace: z.string(), name: z.string() });

/** What the drain's last pass said (drainNode's `DrainProgress`), as far as reports read it. */
export const DrainSeenSchema = z
  .object({
    done: z.boolean(),
    evicting: z.array(PodRefSchema).optional(),
    blocked: z.array(PodRefSchema.extend({ reason: z.string().optional() })).optional(),
    forced: z.array(PodRefSchema).optional(),
  })
  .loose();
export type DrainSeen = z.infer<typeof DrainSeenSchema>;

/** What the command steps said (runNodeCommand's and checkNodeCommand's answers), as far as reports read them. */
export const CommandSeenSchema = z.looseObject({ commandId: z.string(), sentAt: z.string() });
export const CommandCheckSeenSchema = z
  .object({ done: z.boolean(), status: z.string().optional(), outputTail: z.array(z.string()).optional() })
  .loose();

/** The whole state as it stands after the last Task that ran. */
export const OffboardingStateSchema = OffboardingInputSchema.extend({
  prepare: PrepareResultSchema.optional(),
  cordon: z.looseObject({ wasCordoned: z.boolean() }).optional(),
  drain: DrainSeenSchema.optional(),
  /** The pods a drain pass deleted past their budgets (force), kept whatever later passes say. */
  forced: z.object({ pods: z.array(PodRefSchema), count: z.number().int() }).optional(),
  command: CommandSeenSchema.optional(),
  commandCheck: CommandCheckSeenSchema.optional(),
  uncordon: z.looseObject({ uncordoned: z.boolean() }).optional(),
  uncordonFailure: CaughtErrorSchema.optional(),
  failure: CaughtErrorSchema.optional(),
});
export type OffboardingState = z.infer<typeof OffboardingStateSchema>;

/** The step the workflow was in when it failed, from which parts of the state exist. */
export function currentStep(state: OffboardingState): string {
  const prepare = state.prepare;
  if (!prepare) return 'PrepareOffboarding';
  if (prepare.node.present && !state.cordon) return 'CordonNode';
  if (prepare.node.present && prepare.drain.run && !state.drain?.done) return 'DrainNode';
  if (prepare.uninstall.run && !state.command) return 'RunNodeCommand';
  if (prepare.uninstall.run && !state.commandCheck?.done) return 'CheckNodeCommand';
  return 'RemoveNode';
}

/** Whether the Node had been drained when the run failed: from then on it stays cordoned. */
export const drainFinished = (state: OffboardingState): boolean =>
  Boolean(
    state.prepare && (!state.prepare.node.present || (state.cordon && !state.prepare.drain.run) || state.drain?.done),
  );
