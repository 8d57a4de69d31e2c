import * as z from 'zod';
import { isTransientAwsError } from '../errors';

/**
 * The bookkeeping of RemoveNode and CleanUpOffboarding, which each do several things on their own
 * and are tried again while what they could not do may still pass (throttling, an outage): what
 * each try did, what is left with the command that removes it, and whether to try again.
 */

export const ActionSchema = z.object({ action: z.string(), resource: z.string(), outcome: z.string() });
/** One thing a step did (or found done): `delete-node mi-...: deleted`. */
export type Action = z.infer<typeof ActionSchema>;

/**
 * `request`: the step could not run, so whatever of this list applies may be left. `host`: the
 * node's host still has nodeadm's files.
 */
export type LeftoverKind =
  'node' | 'cordon' | 'host' | 'managed-instance' | 'activation' | 'parameters' | 'lock' | 'request';

/** Something still there, why, and the exact command that removes it. */
export interface Leftover {
  kind: LeftoverKind;
  resource: string;
  why: string;
  remove: string;
  /** A later try may remove it: the failure was throttling, a timeout or an outage. */
  retryable: boolean;
}

/** What one try did and could not do. */
export interface Tried {
  actions: Action[];
  left: Leftover[];
}

/** A step that does several things on its own, and what each try of it records. */
export class Attempts implements Tried {
  readonly actions: Action[] = [];
  readonly left: Leftover[] = [];

  did(action: string, resource: string, outcome: string): void {
    this.actions.push({ action, resource, outcome });
  }

  leave(kind: LeftoverKind, resource: string, why: string, remove: string, error?: unknown): void {
    this.left.push({ kind, resource, why, remove, retryable: error !== undefined && isTransientAwsError(error) });
  }
}

export const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** The waits between tries (seconds): four tries in all. */
export const RETRY_WAITS_SECONDS = [10, 30, 90] as const;

/** What a try hands the next (the workflow passes its own result back in). */
export const EarlierTrySchema = z.object({ attempt: z.number().int().min(1), actions: z.array(ActionSchema) });
export type EarlierTry = z.infer<typeof EarlierTrySchema>;

const DONE = /^(deleted|released|deregistered|uncordoned)/;

/**
 * This try after the earlier ones: its number, what every try did (a step done before that now
 * finds nothing to do keeps its earlier outcome), what is left, and whether to try again.
 */
export function afterTry(
  earlier: EarlierTry | undefined,
  tried: Tried,
): { attempt: number; actions: Action[]; left: Leftover[]; retry: boolean; nextWaitSeconds: number } {
  const attempt = (earlier?.attempt ?? 0) + 1;
  const key = (a: Action) => `${a.action} ${a.resource}`;
  const merged = new Map((earlier?.actions ?? []).map((a) => [key(a), a]));
  for (const a of tried.actions) {
    const before = merged.get(key(a));
    merged.set(key(a), before && DONE.test(before.outcome) && !DONE.test(a.outcome) ? before : a);
  }
  const wait = RETRY_WAITS_SECONDS[attempt - 1];
  const retry = wait !== undefined && tried.left.some((l) => l.retryable);
  return { attempt, actions: [...merged.values()], left: tried.left, retry, nextWaitSeconds: retry ? (wait ?? 0) : 0 };
}

/** The part of an alert that names what is left, each with the command that removes it. */
export function leftoverLines(left: Leftover[], attempts: number): string[] {
  if (!left.length) return [];
  return [
    '',
    `Left after ${attempts} attempt(s); finish by hand:`,
    ...left.flatMap((l) => [`- ${l.kind} ${l.resource}: ${l.why}`, `  ${l.remove}`]),
  ];
}
