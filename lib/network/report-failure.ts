import { type CaughtError, describeCaughtError } from '../caught-error';
import { capped, lines, type Notification, snsSubject } from '../notifications';
import type { RunStore } from '../store';
import { type Action, isWaiting } from './plan';
import { actionLine, countOutcomes, moreAt, outcomeLine, storedActions } from './report';
import type { ApplyProgress, PlanRef, Unsaved } from './run-store';

/** The alert of a reconciliation that failed outright (statemachines/reconcile-network.asl.json, its Catch). */

/** The step a reconciliation failed at, from which parts of its state exist. */
export function failedStep(state: {
  mode?: string;
  loaded?: unknown;
  plans?: unknown;
  applied?: Pick<ApplyProgress, 'next'>;
  published?: unknown;
}): string {
  if (!state.loaded) return 'LoadDesiredState';
  if (!state.plans) return 'Plan';
  if (state.mode === 'apply' && state.applied?.next !== 'done') return 'ApplyNetworkPlan';
  if (state.mode === 'apply' && !state.published) return 'PublishMountTargets';
  return 'ReportNetwork';
}

/**
 * The alert for a run that failed outright (a Catch): which step, which error, what to do, and
 * what the run changed before it failed: those outcomes are in the run store, whatever failed.
 */
export function networkFailureReport(input: {
  stage: string;
  mode: string;
  failure: CaughtError;
  step: string;
  /** The plan's actions with their outcomes, when the run got as far as applying. */
  actions?: Action[];
  /** Why the outcomes could not be read, when they could not. */
  unreadable?: string;
  reportUri?: string;
}) {
  const error = describeCaughtError(input.failure);
  const summary = `Network reconciliation (${input.mode}) failed at ${input.step} with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}`;
  const actions = input.actions ?? [];
  const counts = countOutcomes(actions);
  const changed = actions.filter(
    (a) => a.outcome === 'done' || a.outcome?.startsWith('deferred') || isWaiting(a.outcome),
  );
  const more = moreAt(input.reportUri);
  const whatRan = input.unreadable
    ? [`What it changed before failing could not be read (${input.unreadable}); check with a plan run.`]
    : input.actions
      ? [
          `Before it failed: ${outcomeLine(counts)}`,
          ...(changed.length ? ['Changes this run made:', ...capped(changed, actionLine, more)] : []),
          ...(counts.failed
            ? [
                'Changes that failed:',
                ...capped(
                  actions.filter((a) => a.outcome?.startsWith('failed')),
                  actionLine,
                  more,
                ),
              ]
            : []),
        ]
      : ['Nothing was changed.'];
  const notification: Notification = {
    subject: snsSubject(`[CRITICAL] network reconciliation failed: ${error.name}`),
    message: [
      `Network reconciliation for stage ${input.stage} (${input.mode} mode) failed at ${input.step}.`,
      '',
      lines([
        ['Error', error.name],
        ['What happened', error.problem],
        ['How to fix', error.fix],
      ]),
      '',
      ...whatRan,
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: 'network',
  };
  return { error: error.name, summary, notification };
}

/**
 * Step ReportNetworkFailure: the alert for a run that failed outright, with what its apply changed before
 * it failed, read from the run store (best effort: an unreadable store is said, not thrown).
 */
export async function reportNetworkFailure(
  deps: { store: () => RunStore },
  input: {
    stage: string;
    mode: string;
    failure: CaughtError;
    step: string;
    runId?: string;
    plans?: PlanRef[];
    unsaved?: Unsaved;
    reportUri?: string;
  },
) {
  let actions: Action[] | undefined;
  let unreadable: string | undefined;
  if (input.mode === 'apply' && input.runId && input.plans) {
    try {
      ({ actions } = await storedActions(deps.store(), {
        runId: input.runId,
        plans: input.plans,
        applied: true,
        unsaved: input.unsaved,
      }));
    } catch (error) {
      unreadable = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return networkFailureReport({
    stage: input.stage,
    mode: input.mode,
    failure: input.failure,
    step: input.step,
    actions,
    unreadable,
    reportUri: input.reportUri,
  });
}
