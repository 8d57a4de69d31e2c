import * as z from 'zod';

/**
 * The reconciler's plan: what to change (actions), what it will not touch (conflicts), and what
 * it reports without changing (findings). Plain data, kept in the run store (run-store.ts).
 */

export const ACTION_TYPES = [
  'create-rule',
  'update-rule',
  'associate-rule',
  'disassociate-rule',
  'delete-rule',
  'create-mount-target',
  'authorize-nfs',
  'revoke-nfs',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/**
 * What became of an action when it was applied. `waiting`: AWS took it and is still at work (an
 * association CREATING, a mount target creating, a rule still in use while its associations go);
 * the apply step looks again after a while. `deferred`: still waiting when the run ended; the
 * next run finishes it. The others are final.
 */
export type Outcome =
  'done' | 'already-done' | `failed: ${string}` | `skipped: ${string}` | `waiting: ${string}` | `deferred: ${string}`;

/** True for what the action set out to do: done by this run, or found already so. */
export const succeeded = (outcome: Outcome | undefined) => outcome === 'done' || outcome === 'already-done';
export const isWaiting = (outcome: Outcome | undefined) => outcome?.startsWith('waiting') ?? false;

export interface Action {
  type: ActionType;
  /** What it acts on: a rule id, `domain@vpc`, an AZ, a CIDR on a security group. */
  resource: string;
  cluster: string;
  /** One line for a person: what is wrong now and what the action does. */
  detail: string;
  /** What the apply step needs; never a secret. */
  params: Record<string, string | number | boolean | string[] | Array<{ Ip: string; Port: number }>>;
  /** Index of an earlier action this one needs (a rule's creation before its association). */
  after?: number;
  outcome?: Outcome;
}

export interface Conflict {
  cluster: string;
  resource: string;
  message: string;
  fix: string;
}

export const FindingSchema = z.object({
  cluster: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  resource: z.string(),
  message: z.string(),
  fix: z.string().optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

export interface Plan {
  actions: Action[];
  conflicts: Conflict[];
  findings: Finding[];
  /** Where on-prem hosts mount each cluster's EFS now: the mount-target IP per AZ. */
  mountTargets?: Array<{
    cluster: string;
    fileSystemId: string;
    mountOptions: string;
    mountTargets: Array<{ availabilityZone: string; ipAddress: string; mountTargetId: string }>;
  }>;
}

export const emptyPlan = (): Plan => ({ actions: [], conflicts: [], findings: [] });

/** Joins plans, keeping `after` indexes pointing at the same actions. */
export function mergePlans(...plans: Plan[]): Plan {
  const merged = emptyPlan();
  for (const plan of plans) {
    const offset = merged.actions.length;
    merged.actions.push(...plan.actions.map((a) => (a.after === undefined ? a : { ...a, after: a.after + offset })));
    merged.conflicts.push(...plan.conflicts);
    merged.findings.push(...plan.findings);
    if (plan.mountTargets?.length) merged.mountTargets = [...(merged.mountTargets ?? []), ...plan.mountTargets];
  }
  return merged;
}
