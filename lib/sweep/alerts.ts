import { type Notification, snsSubject } from '../onboarding/messages';
import { type Check, type Severity, type SweepFinding, severityRank, type Triage } from './findings';

/** An SNS message of the nightly sweep, with the attributes subscribers filter on. */
export interface SweepAlert {
  subject: string;
  message: string;
  severity: Severity;
  cluster: string;
  check: Check;
}

const worst = (fs: Array<{ severity: Severity }>): Severity =>
  fs.reduce<Severity>((w, f) => (severityRank(f.severity) > severityRank(w) ? f.severity : w), 'info');

const detail = (f: SweepFinding) => [
  `- [${f.severity}] ${f.resource}: ${f.message}`,
  ...(f.evidence ? [`  Evidence: ${f.evidence}`] : []),
  `  Fix: ${f.fix}`,
];

/**
 * The night's messages: one per cluster and check with something to say. New and worsened
 * findings page (their severity); findings still open since an earlier night are one digest line
 * each; resolved ones are said once. A check with only open findings sends an info digest.
 */
export function sweepAlerts(t: Triage, context: { stage: string; date: string }): SweepAlert[] {
  const groups = new Map<string, { cluster: string; check: Check }>();
  const keyOf = (cluster: string, check: Check) => `${cluster}\u0000${check}`;
  const checkOfId = (id: string) => id.split(':')[0] as Check;
  for (const f of [...t.fresh, ...t.worsened, ...t.ongoing])
    groups.set(keyOf(f.cluster, f.check), { cluster: f.cluster, check: f.check });
  for (const r of t.resolved)
    groups.set(keyOf(r.cluster, checkOfId(r.id)), { cluster: r.cluster, check: checkOfId(r.id) });

  const alerts: SweepAlert[] = [];
  for (const { cluster, check } of groups.values()) {
    const mine = <T extends { cluster: string }>(xs: T[], of: (x: T) => Check) =>
      xs.filter((x) => x.cluster === cluster && of(x) === check);
    const fresh = mine(t.fresh, (f) => f.check);
    const worse = mine(t.worsened, (f) => f.check);
    const open = mine(t.ongoing, (f) => f.check);
    const resolved = mine(t.resolved, (r) => checkOfId(r.id));
    const paging = [...fresh, ...worse];
    const severity = paging.length ? worst(paging) : 'info';
    const counts = [
      fresh.length && `${fresh.length} new`,
      worse.length && `${worse.length} worse`,
      open.length && `${open.length} still open`,
      resolved.length && `${resolved.length} resolved`,
    ].filter(Boolean);
    const subject = snsSubject(
      `[${severity.toUpperCase()}] ${cluster} ${check}: ${counts.join(', ')} (${paging.length ? 'nightly sweep' : 'nightly digest'})`,
    );
    const message = [
      `Nightly ${check} sweep of ${cluster} (stage ${context.stage}), ${context.date}.`,
      ...(fresh.length ? ['', 'New:', ...fresh.flatMap(detail)] : []),
      ...(worse.length ? ['', 'Worse than before:', ...worse.flatMap(detail)] : []),
      ...(open.length
        ? ['', 'Still open (reported before):', ...open.map((f) => `- [${f.severity}] ${f.resource}: ${f.message}`)]
        : []),
      ...(resolved.length ? ['', 'Resolved:', ...resolved.map((r) => `- ${r.resource} (was ${r.severity})`)] : []),
    ].join('\n');
    alerts.push({ subject, message, severity, cluster, check });
  }
  return alerts.sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.cluster.localeCompare(b.cluster),
  );
}

/** The alert for a sweep that could not finish: that is news too. */
export function sweepFailureAlert(context: {
  stage: string;
  error: string;
  problem: string;
  fix?: string;
}): Notification {
  return {
    subject: snsSubject(`[CRITICAL] nightly sweep failed: ${context.error}`),
    message: [
      `The nightly sweep of stage ${context.stage} failed with ${context.error}: ${context.problem}`,
      '',
      `How to fix: ${context.fix ?? 'see the error; the next night runs again.'}`,
      'Nothing was checked tonight, so no finding was updated or resolved.',
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: 'sweep',
  };
}
