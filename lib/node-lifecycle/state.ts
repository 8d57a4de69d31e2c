import * as z from 'zod';
import { ClusterAccessSchema } from '../kube/cluster-access';
import { KUBERNETES_MINOR_VERSION, NODE_COMMAND_REQUEST_ID } from './nodeadm';

/**
 * What the node lifecycle steps take and give, as zod schemas: their handlers validate input with
 * them, and the offboarding and upgrade workflows validate the results they read.
 */

/** Which Node, in which cluster: the input of cordonNode and uncordonNode. */
export const NodeStepInputSchema = z.object({ cluster: ClusterAccessSchema, nodeName: z.string().min(1) });
export type NodeStepInput = z.infer<typeof NodeStepInputSchema>;

export const DrainInputSchema = NodeStepInputSchema.extend({
  /** When refused evictions stop being retried (ISO 8601): then `force` decides. */
  deadline: z.iso.datetime({ offset: true }),
  /** Past the deadline, delete the pods that would not leave, past their PodDisruptionBudgets. */
  force: z.boolean(),
});
export type DrainInput = z.infer<typeof DrainInputSchema>;

export const PodRefSchema = z.object({ namespace: z.string(), name: z.string() });
export type PodRef = z.infer<typeof PodRefSchema>;

/**
 * One drain pass. Each list names at most {@link MAX_LISTED_PODS} pods (Step Functions state is
 * limited to 256 KiB); `counts` has them all.
 */
export const DrainProgressSchema = z.object({
  /** Only DaemonSet and mirror pods are left on the Node. */
  done: z.boolean(),
  /** Pods evicted (this pass or before) and still terminating. */
  evicting: z.array(PodRefSchema),
  /** Pods that would not leave: evictions a PodDisruptionBudget refused (tried again next pass). */
  blocked: z.array(PodRefSchema.extend({ reason: z.string() })),
  /** Pods deleted past their budgets this pass (past the deadline, with `force`). */
  forced: z.array(PodRefSchema),
  /** Pods a drain leaves: the DaemonSet's (they tolerate the cordon) and static pods' mirrors. */
  skipped: z.object({ daemonSet: z.number().int(), mirror: z.number().int() }),
  counts: z.object({ evicting: z.number().int(), blocked: z.number().int(), forced: z.number().int() }),
});
export type DrainProgress = z.infer<typeof DrainProgressSchema>;
export const MAX_LISTED_PODS = 50;

export const NodeActionSchema = z.enum(['uninstall', 'upgrade']);

export const RunNodeCommandInputSchema = z
  .object({
    /** The managed instance (`mi-...`), which is the hybrid Node's name. */
    instanceId: z.string().min(1),
    requestId: z.string().regex(NODE_COMMAND_REQUEST_ID, 'must be a DNS label ([a-z0-9-], 1-63)'),
    action: NodeActionSchema,
    kubernetesVersion: z.string().regex(KUBERNETES_MINOR_VERSION, 'must be a minor version such as 1.33').optional(),
  })
  .refine((i) => i.action !== 'upgrade' || i.kubernetesVersion !== undefined, {
    message: 'an upgrade needs kubernetesVersion',
    path: ['kubernetesVersion'],
  });
export type RunNodeCommandInput = z.infer<typeof RunNodeCommandInputSchema>;

/** The command runNodeCommand sent (or found already sent): what checkNodeCommand follows. */
export const NodeCommandSchema = z.object({
  instanceId: z.string(),
  commandId: z.string(),
  /** When SSM took the command (ISO 8601). */
  sentAt: z.string(),
  action: NodeActionSchema,
  /** How long checkNodeCommand should wait for it: delivery, execution, and the agent's report. */
  timeoutSeconds: z.number().int().positive(),
});
export type NodeCommand = z.infer<typeof NodeCommandSchema>;

export const CheckNodeCommandInputSchema = z.object({
  instanceId: z.string().min(1),
  commandId: z.string().min(1),
  sentAt: z.iso.datetime({ offset: true }),
  timeoutSeconds: z.number().int().positive(),
});
export type CheckNodeCommandInput = z.infer<typeof CheckNodeCommandInputSchema>;

export const NodeCommandResultSchema = z.object({
  done: z.boolean(),
  /**
   * The invocation's status (SSM `CommandInvocationStatus`), or `Deregistered`: an uninstall whose
   * host left SSM before its agent could report (nodeadm uninstall removes that agent).
   */
  status: z.string(),
  /** The output's last lines, lines that mention the activation code redacted. */
  outputTail: z.array(z.string()).optional(),
});
export type NodeCommandResult = z.infer<typeof NodeCommandResultSchema>;
