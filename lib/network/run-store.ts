import * as z from 'zod';
import { RUN_ID } from '../run-id';
import { mustGet, type RunStore } from '../store';
import { mergePlans, type Outcome, type Plan } from './plan';

/**
 * Where a reconcile run keeps its plans and outcomes in the run store, so that neither grows the
 * Step Functions state (a plan of thousands of actions passes its 256 KiB) and no outcome is
 * lost when a later step fails: the state carries keys and counts.
 */

export const RunIdSchema = z
  .string({ error: 'runId is required' })
  .regex(RUN_ID, 'runId must be the id LoadDesiredState returned, e.g. 20261122T180000Z-a1b2c3');

export const reconcileKeys = (runId: string) => ({
  plan: (kind: string) => `runs/reconcile-${runId}/plan-${kind}.json`,
  outcomes: (chunk: number) => `runs/reconcile-${runId}/outcomes/${String(chunk).padStart(4, '0')}.json`,
  report: `runs/reconcile-${runId}/report.json`,
});

/** What a Plan branch hands on: where its plan is, and how big it is. */
export const PlanRefSchema = z.object({
  kind: z.enum(['resolver', 'efs']),
  key: z.string().min(1),
  actions: z.number().int().min(0),
  conflicts: z.number().int().min(0),
  findings: z.number().int().min(0),
});
export type PlanRef = z.infer<typeof PlanRefSchema>;

/** Writes one kind's plan and returns its reference. */
export async function savePlan(store: RunStore, runId: string, kind: PlanRef['kind'], plan: Plan): Promise<PlanRef> {
  const key = reconcileKeys(runId).plan(kind);
  await store.putJson(key, plan);
  return { kind, key, actions: plan.actions.length, conflicts: plan.conflicts.length, findings: plan.findings.length };
}

/** The run's whole plan, its parts in the order of the references (so action indexes are stable). */
export async function loadPlan(store: RunStore, refs: PlanRef[]): Promise<Plan> {
  const plans: Plan[] = [];
  for (const ref of refs) plans.push(await mustGet<Plan>(store, ref.key));
  return mergePlans(...plans);
}

/** An action's outcome as the journal keeps it, with what later actions or checks need of it. */
export const OutcomeRecordSchema = z.object({
  outcome: z.string().regex(/^(done|already-done|(failed|skipped|waiting|deferred): .+)$/) as z.ZodType<Outcome>,
  /** The rule a create-rule made (its associations need the id AWS gave it). */
  ruleId: z.string().optional(),
  /** What a waiting action waits for, so the next look knows what to check. */
  wait: z.enum(['prerequisite', 'association', 'rule-update', 'mount-target', 'in-use']).optional(),
});
export type OutcomeRecord = z.infer<typeof OutcomeRecordSchema>;

/** Outcomes the store would not take yet, by action index: the state carries them until it does. */
export const UnsavedSchema = z.array(z.object({ index: z.number().int().min(0), record: OutcomeRecordSchema }));
export type Unsaved = z.infer<typeof UnsavedSchema>;

/** Outcomes per store object: each write after an action rewrites one object of at most this many. */
export const OUTCOME_CHUNK = 50;

/** Puts the outcome of action `index` into its chunk, padding the gap before it. */
function place(chunk: Array<OutcomeRecord | null>, index: number, record: OutcomeRecord): void {
  while (chunk.length < index % OUTCOME_CHUNK) chunk.push(null);
  chunk[index % OUTCOME_CHUNK] = record;
}

/**
 * The run's outcomes, by action index, read from and written to the store a chunk at a time. An
 * outcome is written as soon as the action is done, so a crash or a retry never applies an action
 * twice and reports its own change as "already done". A write that fails is kept and tried with
 * the next one; what is still unwritten at the end is handed back (`unsaved`) for the state to
 * carry, since applying again would call the run's own change "already done".
 */
export function outcomeJournal(store: RunStore, runId: string, unsaved: Unsaved = []) {
  const keys = reconcileKeys(runId);
  const chunks = new Map<number, Array<OutcomeRecord | null>>();
  const dirty = new Set<number>();
  const carried = new Map(unsaved.map((u) => [u.index, u.record]));
  const chunkOf = async (index: number) => {
    const n = Math.floor(index / OUTCOME_CHUNK);
    let chunk = chunks.get(n);
    if (!chunk) {
      chunk = (await store.getJson<Array<OutcomeRecord | null>>(keys.outcomes(n))) ?? [];
      // Outcomes the state carried, not yet in the store: they are newer than the stored ones.
      for (const [i, record] of carried) {
        if (Math.floor(i / OUTCOME_CHUNK) !== n) continue;
        place(chunk, i, record);
        dirty.add(n);
      }
      chunks.set(n, chunk);
    }
    return { n, chunk };
  };
  const write = async () => {
    for (const n of [...dirty]) {
      await store.putJson(keys.outcomes(n), chunks.get(n));
      dirty.delete(n);
    }
  };
  return {
    async get(index: number): Promise<OutcomeRecord | undefined> {
      const { chunk } = await chunkOf(index);
      return chunk[index % OUTCOME_CHUNK] ?? undefined;
    },
    /** Records an outcome and tries to write it at once; a failed write is tried again later. */
    async set(index: number, record: OutcomeRecord): Promise<void> {
      const { n, chunk } = await chunkOf(index);
      place(chunk, index, record);
      dirty.add(n);
      await write().catch(() => undefined);
    },
    /**
     * Writes what is not written yet. Returns the outcomes it could not write (none: all saved),
     * with the ones carried in that were never read back.
     */
    async flush(): Promise<Unsaved> {
      // Carried outcomes this invocation did not touch: read their chunks, so they are written too.
      for (const index of carried.keys()) await chunkOf(index).catch(() => undefined);
      const failed = await write().then(
        () => undefined,
        (error: unknown) => error,
      );
      if (failed === undefined && [...carried.keys()].every((i) => chunks.has(Math.floor(i / OUTCOME_CHUNK)))) {
        return [];
      }
      const left: Unsaved = [];
      for (const n of dirty) {
        (chunks.get(n) ?? []).forEach((record, i) => {
          if (record) left.push({ index: n * OUTCOME_CHUNK + i, record });
        });
      }
      for (const [index, record] of carried) {
        if (!chunks.has(Math.floor(index / OUTCOME_CHUNK))) left.push({ index, record });
      }
      return left;
    },
  };
}

export type OutcomeJournal = ReturnType<typeof outcomeJournal>;

/** Every recorded outcome of a plan of `count` actions (undefined where none was recorded). */
export async function readOutcomes(
  store: RunStore,
  runId: string,
  count: number,
  unsaved: Unsaved = [],
): Promise<Array<OutcomeRecord | undefined>> {
  const journal = outcomeJournal(store, runId, unsaved);
  const outcomes: Array<OutcomeRecord | undefined> = [];
  for (let i = 0; i < count; i += 1) outcomes.push(await journal.get(i));
  return outcomes;
}

/** Passes over the plan: one to apply, the rest to look again at what AWS is still doing. */
export const SETTLE_ROUNDS = 10;
export const SETTLE_WAIT_SECONDS = 30;

/** Where the apply step stands; the state carries it from one invocation to the next (ASL state Apply). */
export const ApplyProgressSchema = z.object({
  /** The next action to look at in this pass. */
  cursor: z.number().int().min(0),
  round: z.number().int().min(1),
  /** Actions found still at work at AWS so far in this pass. */
  waiting: z.number().int().min(0),
  next: z.enum(['apply', 'wait', 'done']),
  waitSeconds: z.number().int().min(0),
  /** Actions in the plan. */
  total: z.number().int().min(0).optional(),
  /** Outcomes the run store would not take yet: the next invocation writes them first. */
  unsaved: UnsavedSchema.optional(),
});
export type ApplyProgress = z.infer<typeof ApplyProgressSchema>;

/** The progress before the first invocation (the ASL's StartApply state holds the same). */
export const START: ApplyProgress = { cursor: 0, round: 1, waiting: 0, next: 'apply', waitSeconds: 0 };
