import { describeCaughtError, lines, type Notification, snsSubject } from '../onboarding/messages';
import type { Mode } from './modes';
import type { Action, Plan } from './plan';

/** The report and alerts of statemachines/reconcile-network.asl.json (no AWS calls). */

export interface NetworkReport {
  mode: Mode;
  trigger: string;
  actions: Action[];
  conflicts: Plan['conflicts'];
  findings: Plan['findings'];
  published: unknown[];
  /** DNS checked both ways (CheckResolution). */
  resolution: unknown[];
  /** The mount-target IPs per AZ as planned (before any change this run made). */
  mountTargets: NonNullable<Plan['mountTargets']>;
  failed: number;
  /** The SNS message to send, if any: drift found by a scheduled plan, failures, critical findings. */
  notification?: Notification;
}

/**
 * Writes the run's result and, when operators should hear of it, their alert: drift found by the
 * schedule (each difference and how to apply), actions that failed, critical findings.
 */
export function reportNetwork(input: {
  mode: Mode;
  trigger: string;
  stage: string;
  plan: Plan;
  applied?: Action[];
  published?: unknown[];
  resolution?: unknown[];
}): NetworkReport {
  const actions = input.applied ?? input.plan.actions;
  const failed = actions.filter((a) => a.outcome?.startsWith('failed')).length;
  const critical = input.plan.findings.filter((f) => f.severity === 'critical');
  const drift = input.mode === 'plan' && input.trigger === 'schedule' && actions.length > 0;
  const report: NetworkReport = {
    mode: input.mode,
    trigger: input.trigger,
    actions,
    conflicts: input.plan.conflicts,
    findings: input.plan.findings,
    published: input.published ?? [],
    resolution: input.resolution ?? [],
    mountTargets: input.plan.mountTargets ?? [],
    failed,
  };
  if (!drift && failed === 0 && critical.length === 0) return report;
  const clusters = [...new Set([...actions, ...critical].map((x) => x.cluster))].join(', ') || 'all';
  const severity = failed || critical.length ? 'critical' : 'warning';
  const headline = failed
    ? `${failed} of ${actions.length} network change(s) failed`
    : drift
      ? `network drift: ${actions.length} difference(s) from the desired state`
      : `${critical.length} critical network finding(s)`;
  const message = [
    `${headline} (stage ${input.stage}, ${input.mode} mode, ${input.trigger}).`,
    '',
    ...actions.map((a) => `- ${a.type} ${a.resource}: ${a.detail}${a.outcome ? ` => ${a.outcome}` : ''}`),
    ...(input.plan.conflicts.length ? ['', 'Left alone (not managed by eks-hybrid-ops):'] : []),
    ...input.plan.conflicts.map((c) => `- ${c.resource}: ${c.message} Fix: ${c.fix}`),
    ...(input.plan.findings.length ? ['', 'Findings:'] : []),
    ...input.plan.findings.map((f) => `- [${f.severity}] ${f.resource}: ${f.message}${f.fix ? ` Fix: ${f.fix}` : ''}`),
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

/** The alert for a run that failed outright (a Catch): which step, which error, what to do. */
export function reportNetworkFailure(input: {
  stage: string;
  mode: string;
  failure: { Error: string; Cause?: string };
}) {
  const error = describeCaughtError(input.failure);
  const summary = `Network reconciliation (${input.mode}) failed with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}`;
  const notification: Notification = {
    subject: snsSubject(`[CRITICAL] network reconciliation failed: ${error.name}`),
    message: [
      `Network reconciliation for stage ${input.stage} (${input.mode} mode) failed; nothing after the failing step ran.`,
      '',
      lines([
        ['Error', error.name],
        ['What happened', error.problem],
        ['How to fix', error.fix],
      ]),
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: 'network',
  };
  return { error: error.name, summary, notification };
}
