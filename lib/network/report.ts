import type { RunStore } from '../store';
import { capped, lines, type Notification, snsSubject } from '../notifications';
import type { ResolutionCheck } from '../net/resolution';
import type { Mode } from './modes';
import { type Action, type ActionType, isWaiting, type Plan } from './plan';
import type { PublishedDirectory } from './publish-mount-targets';
import type { ResolutionResult } from './resolution';
import { loadPlan, type OutcomeRecord, type PlanRef, readOutcomes, reconcileKeys, type Unsaved } from './run-store';

/** The report of statemachines/reconcile-network.asl.json, and the alert when there is something to act on. */

/** Actions, conflicts and findings listed in the execution output; every one is in the report object. */
export const MAX_OUTPUT_ITEMS = 50;

export interface OutcomeCounts {
  done: number;
  alreadyDone: number;
  failed: number;
  skipped: number;
  deferred: number;
}

export interface NetworkReport {
  mode: Mode;
  trigger: string;
  /** The first MAX_OUTPUT_ITEMS actions with their outcomes (all of them in `reportKey`). */
  actions: Action[];
  actionsTotal: number;
  counts: OutcomeCounts;
  conflicts: Plan['conflicts'];
  findings: Plan['findings'];
  published: PublishedDirectory[];
  /** DNS checked both ways (CheckResolution). */
  resolution: ResolutionCheck[];
  /** The mount-target IPs per AZ as planned (before any change this run made). */
  mountTargets: NonNullable<Plan['mountTargets']>;
  failed: number;
  /** Per action type, every action of the run (not only the listed ones): see {@link countChanges}. */
  changes: ChangeCounts;
  /** Where the whole report is (a key in the run store). */
  reportKey?: string;
  /** The SNS message to send, if any: drift found by a scheduled plan, failures, critical findings. */
  notification?: Notification;
}

/** The actions of a plan with the outcome each got (none in plan mode). */
export function withOutcomes(plan: Plan, outcomes?: Array<OutcomeRecord | undefined>): Action[] {
  if (!outcomes) return plan.actions;
  return plan.actions.map((a, i) => ({ ...a, outcome: outcomes[i]?.outcome ?? 'skipped: the run ended before it' }));
}

export function countOutcomes(actions: Action[]): OutcomeCounts {
  const count = (test: (o: string) => boolean) => actions.filter((a) => a.outcome && test(a.outcome)).length;
  return {
    done: count((o) => o === 'done'),
    alreadyDone: count((o) => o === 'already-done'),
    failed: count((o) => o.startsWith('failed')),
    skipped: count((o) => o.startsWith('skipped')),
    deferred: count((o) => o.startsWith('deferred') || isWaiting(o as Action['outcome'])),
  };
}

/**
 * Per action type: `found`, the differences from the desired state the plan had (each action is
 * one), and `applied`, those this run changed itself (outcome `done`; not `already-done`, which
 * someone else did). Types with no action are left out.
 */
export type ChangeCounts = Partial<Record<ActionType, { found: number; applied: number }>>;

export function countChanges(actions: Action[]): ChangeCounts {
  const changes: ChangeCounts = {};
  for (const a of actions) {
    const c = changes[a.type] ?? { found: 0, applied: 0 };
    c.found += 1;
    if (a.outcome === 'done') c.applied += 1;
    changes[a.type] = c;
  }
  return changes;
}

export const actionLine = (a: Action) => [
  `- ${a.type} ${a.resource}: ${a.detail}${a.outcome ? ` => ${a.outcome}` : ''}`,
];

/**
 * Writes the run's result and, when operators should hear of it, their alert: drift found by the
 * schedule (each difference and how to apply), actions that failed or are still in progress at
 * AWS, critical findings. Long lists are cut in the message and point to the whole report.
 */
export function networkReport(input: {
  mode: Mode;
  trigger: string;
  stage: string;
  plan: Plan;
  actions: Action[];
  published?: PublishedDirectory[];
  resolution?: ResolutionCheck[];
  /** Where the whole report is, for people reading a cut list. */
  reportUri?: string;
}): NetworkReport {
  const { actions } = input;
  const counts = countOutcomes(actions);
  const critical = input.plan.findings.filter((f) => f.severity === 'critical');
  const drift = input.mode === 'plan' && input.trigger === 'schedule' && actions.length > 0;
  const report: NetworkReport = {
    mode: input.mode,
    trigger: input.trigger,
    actions,
    actionsTotal: actions.length,
    counts,
    conflicts: input.plan.conflicts,
    findings: input.plan.findings,
    published: input.published ?? [],
    resolution: input.resolution ?? [],
    mountTargets: input.plan.mountTargets ?? [],
    failed: counts.failed,
    changes: countChanges(actions),
  };
  if (!drift && counts.failed === 0 && counts.deferred === 0 && critical.length === 0) return report;
  const clusters = [...new Set([...actions, ...critical].map((x) => x.cluster))].join(', ') || 'all';
  const severity = counts.failed || critical.length ? 'critical' : 'warning';
  const headline = counts.failed
    ? `${counts.failed} of ${actions.length} network change(s) failed`
    : counts.deferred
      ? `${counts.deferred} network change(s) still in progress at AWS`
      : drift
        ? `network drift: ${actions.length} difference(s) from the desired state`
        : `${critical.length} critical network finding(s)`;
  const more = moreAt(input.reportUri);
  const message = [
    `${headline} (stage ${input.stage}, ${input.mode} mode, ${input.trigger}).`,
    ...(input.mode === 'apply' ? ['', outcomeLine(counts)] : []),
    '',
    ...capped(actions, actionLine, more),
    ...(counts.deferred ? ['', 'Still in progress at AWS when the run ended: the next run finishes them.'] : []),
    ...(input.plan.conflicts.length ? ['', 'Left alone (not managed by eks-hybrid-ops):'] : []),
    ...capped(input.plan.conflicts, (c) => [`- ${c.resource}: ${c.message} Fix: ${c.fix}`], more),
    ...(input.plan.findings.length ? ['', 'Findings:'] : []),
    ...capped(
      input.plan.findings,
      (f) => [`- [${f.severity}] ${f.resource}: ${f.message}${f.fix ? ` Fix: ${f.fix}` : ''}`],
      more,
    ),
    '',
    lines([
      [
        'To apply',
        drift
          ? 'POST /reconcile with {"mode": "apply"}, or hybridops run reconcile-network with mode apply'
          : undefined,
      ],
    ]),
  ].join('\n');
  report.notification = {
    subject: snsSubject(`[${severity.toUpperCase()}] ${headline}`),
    message: message.trimEnd(),
    severity,
    cluster: clusters,
    check: 'network',
  };
  return report;
}

export const outcomeLine = (c: OutcomeCounts) =>
  `Outcomes: ${c.done} done, ${c.alreadyDone} already so, ${c.failed} failed, ${c.skipped} skipped, ${c.deferred} still in progress.`;

/** The report as the state carries it: the first items of each list; the object has them all. */
export function forState(report: NetworkReport, reportKey: string): NetworkReport {
  return {
    ...report,
    actions: report.actions.slice(0, MAX_OUTPUT_ITEMS),
    conflicts: report.conflicts.slice(0, MAX_OUTPUT_ITEMS),
    findings: report.findings.slice(0, MAX_OUTPUT_ITEMS),
    reportKey,
  };
}

/** The run's plan from the run store, and its actions with the outcome each got when it applied. */
export async function storedActions(
  store: RunStore,
  input: { runId: string; plans: PlanRef[]; applied: boolean; unsaved?: Unsaved },
): Promise<{ plan: Plan; actions: Action[] }> {
  const plan = await loadPlan(store, input.plans);
  const outcomes = input.applied
    ? await readOutcomes(store, input.runId, plan.actions.length, input.unsaved)
    : undefined;
  return { plan, actions: withOutcomes(plan, outcomes) };
}

/** Where a cut list points for the rest. */
export const moreAt = (reportUri?: string) => (reportUri ? `every one is in ${reportUri}` : 'see the run report');

/** Step ReportNetwork: the plan and every outcome from the run store; the whole report back there. */
export async function reportNetwork(
  deps: { store: RunStore },
  input: {
    runId: string;
    mode: Mode;
    trigger: string;
    stage: string;
    plans: PlanRef[];
    applied: boolean;
    /** Outcomes the apply step could not write to the store (the state carried them). */
    unsaved?: Unsaved;
    published?: PublishedDirectory[];
    resolution?: ResolutionResult;
    reportUri?: string;
  },
): Promise<NetworkReport> {
  const { plan, actions } = await storedActions(deps.store, input);
  const findings = [...plan.findings, ...(input.resolution?.findings ?? [])];
  const report = networkReport({
    mode: input.mode,
    trigger: input.trigger,
    stage: input.stage,
    plan: { ...plan, findings },
    actions,
    published: input.published,
    resolution: input.resolution?.checks,
    reportUri: input.reportUri,
  });
  const key = reconcileKeys(input.runId).report;
  await deps.store.putJson(key, report);
  return forState(report, key);
}
