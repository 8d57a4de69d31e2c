import * as z from 'zod';
import { ClusterAccessSchema } from '../kube/cluster-access';

/**
 * The shape of the upgrade workflow's state, part by part: the execution input POST /upgrades
 * builds, the plan, one node's progress through its Map iteration, and its outcome. Each Task
 * validates the parts it reads.
 */

/** An upgrade id: the execution name and the value its node locks hold, so 1-63 of [a-z0-9-]. */
export const UPGRADE_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/** What to upgrade, with every default resolved when the request was accepted. */
export const UpgradeSpecSchema = z.object({
  cluster: z.string().min(1),
  /** The target Kubernetes version, major.minor. */
  kubernetesVersion: z.string().regex(/^\d+\.\d+$/),
  nodes: z.array(z.string()).optional(),
  selector: z.string().optional(),
  maxUnavailable: z.number().int().min(1),
  force: z.boolean(),
  drainTimeoutSeconds: z.number().int().min(1),
});
export type UpgradeSpec = z.infer<typeof UpgradeSpecSchema>;

export const UpgradeInputSchema = z.object({
  upgradeId: z.string().regex(UPGRADE_ID),
  requester: z.string().min(1),
  requestDigest: z.string().min(1),
  request: UpgradeSpecSchema,
  /**
   * Fixed when the request is accepted: the last-resort alert (built without any Lambda) quotes
   * the commands that find what a run may have left.
   */
  resources: z.object({ lockPath: z.string(), manualCheck: z.string() }),
});
export type UpgradeInput = z.infer<typeof UpgradeInputSchema>;

/** A node the plan will upgrade. */
export const PlannedNodeSchema = z.object({
  /** The Kubernetes Node name (with SSM credentials, the managed-instance id). */
  nodeName: z.string(),
  /** The name it was onboarded under (its instance's `hybridops:node-name` tag), else the Node name. */
  name: z.string(),
  instanceId: z.string(),
  /** The node lock's SSM parameter (lib/node-lock.ts), shared with onboarding and offboarding. */
  lockParameter: z.string(),
  /** Its kubelet version when planned, e.g. v1.31.4-eks-1234567. */
  from: z.string(),
  wave: z.number().int().min(0),
});
export type PlannedNode = z.infer<typeof PlannedNodeSchema>;

/** Why a node is not upgraded. */
export const SKIP_REASONS = [
  'not-found',
  'not-managed',
  'version-unknown',
  'at-target',
  'newer-than-target',
  'too-old',
  'not-ready',
  'offline',
  'busy',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const SkippedNodeSchema = z.object({
  name: z.string(),
  nodeName: z.string().optional(),
  from: z.string().optional(),
  reason: z.enum(SKIP_REASONS),
  /** What is wrong and what to do, for the summary. */
  detail: z.string(),
});
export type SkippedNode = z.infer<typeof SkippedNodeSchema>;

/** Skipped nodes the state carries; the plan in the run store lists them all. */
export const SKIPPED_IN_STATE = 50;

export const UpgradePlanSchema = z.object({
  cluster: z.string(),
  clusterArn: z.string(),
  controlPlaneVersion: z.string(),
  target: z.string(),
  access: ClusterAccessSchema,
  plannedAt: z.string(),
  /** The run store object with the whole plan. */
  key: z.string(),
  waves: z.array(z.array(PlannedNodeSchema)),
  waveCount: z.number().int().min(0),
  toUpgrade: z.number().int().min(0),
  skipped: z.array(SkippedNodeSchema),
  skippedCount: z.number().int().min(0),
  /** Nodes a selector (or the default, every hybrid node) matched that are at the target or newer already. */
  atTarget: z.number().int().min(0),
});
export type UpgradePlan = z.infer<typeof UpgradePlanSchema>;

/** One node's Map iteration input (ItemSelector in statemachines/upgrade-nodes.asl.json). */
export const NodeItemSchema = z.object({
  upgradeId: z.string().regex(UPGRADE_ID),
  access: ClusterAccessSchema,
  target: z.string(),
  force: z.boolean(),
  drainTimeoutSeconds: z.number().int().min(1),
  node: PlannedNodeSchema,
});
export type NodeItem = z.infer<typeof NodeItemSchema>;

/** What a node's upgrade ended as. */
export const NodeOutcomeSchema = z.object({
  nodeName: z.string(),
  name: z.string(),
  wave: z.number().int().min(0),
  outcome: z.enum(['upgraded', 'skipped', 'failed']),
  from: z.string(),
  /** Its kubelet version at the end, when known. */
  to: z.string().optional(),
  reason: z.enum(SKIP_REASONS).optional(),
  /** What happened, in a sentence or two, with what to do when something is left to do. */
  detail: z.string(),
  /** Where a failure happened, and the error. */
  step: z.string().optional(),
  error: z.string().optional(),
  /** True when the node is left cordoned (kubectl uncordon brings it back). */
  cordoned: z.boolean(),
  /** The lock parameter, when it could not be released. */
  lockLeft: z.string().optional(),
});
export type NodeOutcome = z.infer<typeof NodeOutcomeSchema>;

/** StartNodeUpgrade's answer: go on (the lock is ours), or the node's outcome (skipped). */
export const NodeStartSchema = z.object({
  action: z.enum(['upgrade', 'skip']),
  startedAt: z.string(),
  /** The Node was cordoned before this upgrade came: it is left so, not uncordoned. */
  cordonedBefore: z.boolean(),
  drainDeadline: z.string(),
  drainWaitSeconds: z.number().int().min(1),
  outcome: NodeOutcomeSchema.optional(),
});
export type NodeStart = z.infer<typeof NodeStartSchema>;

/** CheckUpgradedNode's answer. */
export const ReadinessSchema = z.object({
  done: z.boolean(),
  /** When the workflow began waiting for the Node (the deadline counts from here). */
  since: z.string(),
  attempt: z.number().int().min(1),
  kubeletVersion: z.string().optional(),
  ready: z.string().optional(),
});
export type Readiness = z.infer<typeof ReadinessSchema>;

/** Where an upgrade keeps its plan, each wave's outcomes and its report. */
export const upgradeKeys = (upgradeId: string) => ({
  plan: `runs/upgrade-${upgradeId}/plan.json`,
  wave: (index: number) => `runs/upgrade-${upgradeId}/waves/${String(index).padStart(3, '0')}.json`,
  report: `runs/upgrade-${upgradeId}/report.json`,
});
