import { capped, type Notification, snsSubject } from '../notifications';
import { type Check, type Severity, type SweepFinding, severityRank, type Triage } from './findings';

/** An SNS message of the nightly sweep, with the attributes subscribers filter on. */
export interface SweepAlert {
  subject: string;
  message: string;
  severity: Severity;
  cluster: string;
  /** The check it is about; `all` for the digest. */
  check: Check | 'all';
}

const worst = (fs: Array<{ severity: Severity }>): Severity =>
  fs.reduce<Severity>((w, f) => (severityRank(f.severity) > severityRank(w) ? f.severity : w), 'info');

const detail = (f: SweepFinding) => [
  `- [${f.severity}] ${f.resource}: ${f.message}`,
  ...(f.evidence ? [`  Evidence: ${f.evidence}`] : []),
  `  Fix: ${f.fix}`,
];

/**
 * The night's messages. Each cluster and check with new or worsened findings gets a message that
 * pages (its worst severity), with each such finding, its evidence and its fix, and the group's
 * open and resolved findings as context. Everything else, findings still open since an earlier
 * night and findings that resolved, goes in one info digest: a line each, once a night.
 */
export function sweepAlerts(
  t: Triage,
  context: { stage: string; date: string; /** Where every finding is listed. */ report?: string },
): SweepAlert[] {
  const more = context.report ? `every finding is in ${context.report}` : 'see the sweep report';
  const checkOfId = (id: string) => id.split(':')[0] as Check;
  const keyOf = (cluster: string, check: Check) => `${cluster}\u0000${check}`;
  const groups = new Map<string, { cluster: string; check: Check }>();
  for (const f of [...t.fresh, ...t.worsened, ...t.ongoing])
    groups.set(keyOf(f.cluster, f.check), { cluster: f.cluster, check: f.check });
  for (const r of t.resolved)
    groups.set(keyOf(r.cluster, checkOfId(r.id)), { cluster: r.cluster, check: checkOfId(r.id) });

  const openLine = (f: SweepFinding) => [`- [${f.severity}] ${f.resource}: ${f.message}`];
  const resolvedLine = (r: Triage['resolved'][number]) => [`- ${r.resource} (was ${r.severity})`];
  const alerts: SweepAlert[] = [];
  const digest: string[] = [];
  const digested = { open: 0, resolved: 0, clusters: new Set<string>() };
  for (const { cluster, check } of groups.values()) {
    const mine = <T extends { cluster: string }>(xs: T[], of: (x: T) => Check) =>
      xs.filter((x) => x.cluster === cluster && of(x) === check);
    const fresh = mine(t.fresh, (f) => f.check);
    const worse = mine(t.worsened, (f) => f.check);
    const open = mine(t.ongoing, (f) => f.check);
    const resolved = mine(t.resolved, (r) => checkOfId(r.id));
    const paging = [...fresh, ...worse];
    if (!paging.length) {
      digested.open += open.length;
      digested.resolved += resolved.length;
      digested.clusters.add(cluster);
      digest.push(
        '',
        `${cluster} ${check}:`,
        ...capped(open, openLine, more),
        ...capped(resolved, (r) => [`- resolved: ${r.resource} (was ${r.severity})`], more),
      );
      continue;
    }
    const counts = [
      fresh.length && `${fresh.length} new`,
      worse.length && `${worse.length} worse`,
      open.length && `${open.length} still open`,
      resolved.length && `${resolved.length} resolved`,
    ].filter(Boolean);
    const severity = worst(paging);
    alerts.push({
      subject: snsSubject(`[${severity.toUpperCase()}] ${cluster} ${check}: ${counts.join(', ')} (nightly sweep)`),
      message: [
        `Nightly ${check} sweep of ${cluster} (stage ${context.stage}), ${context.date}.`,
        ...(fresh.length ? ['', 'New:', ...capped(fresh, detail, more)] : []),
        ...(worse.length ? ['', 'Worse than before:', ...capped(worse, detail, more)] : []),
        ...(open.length ? ['', 'Still open (reported before):', ...capped(open, openLine, more)] : []),
        ...(resolved.length ? ['', 'Resolved:', ...capped(resolved, resolvedLine, more)] : []),
      ].join('\n'),
      severity,
      cluster,
      check,
    });
  }
  alerts.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.cluster.localeCompare(b.cluster));
  if (digest.length) {
    const counts = [
      digested.open && `${digested.open} still open`,
      digested.resolved && `${digested.resolved} resolved`,
    ].filter(Boolean);
    const [only] = digested.clusters;
    alerts.push({
      subject: snsSubject(`[INFO] ${context.stage} nightly digest: ${counts.join(', ')}`),
      message: [
        `Nightly sweep of stage ${context.stage}, ${context.date}: findings reported on earlier nights that are still open, and those that resolved. Nothing new here.`,
        ...digest,
      ].join('\n'),
      severity: 'info',
      cluster: digested.clusters.size === 1 && only ? only : 'all',
      check: 'all',
    });
  }
  return alerts;
}

/** Where a failed night stopped. */
export type SweepStep = 'SweepInventory' | 'MergeSweep' | 'PublishSweepAlerts' | 'CommitSweep';

/**
 * The alert for a sweep that could not finish: that is news too. It says what got done before the
 * failure, truly: nothing checked (SweepInventory), nothing sent (MergeSweep), which alerts went
 * out (PublishSweepAlerts), or all sent but the memory not saved (CommitSweep): then tomorrow
 * re-reports.
 */
export function sweepFailureAlert(context: {
  stage: string;
  error: string;
  problem: string;
  fix?: string;
  step: SweepStep;
  /** Subjects of the alerts that went out tonight before the failure. */
  sent?: string[];
  /** Subjects of alerts sent without an answer from SNS: they may or may not have gone out. */
  unconfirmed?: string[];
  alertCount?: number;
  /** Why what went out could not be read. */
  unknown?: string;
  /** The step stopped because what went out could not be recorded: its error names it. */
  unrecorded?: boolean;
  /** The alert memory holds tonight's after all (CommitSweep wrote it; its answer was lost). */
  memorySaved?: boolean;
}): Notification {
  const sent = context.sent ?? [];
  const maybe = context.unconfirmed?.length
    ? [
        'These were sent without an answer from SNS, so they may have gone out too:',
        ...context.unconfirmed.map((s) => `- ${s}`),
      ]
    : [];
  const of = context.alertCount === undefined ? '' : ` of ${context.alertCount}`;
  const tomorrow = "The alert memory was not updated: tomorrow's sweep reports tonight's findings again.";
  const what: Record<SweepStep, string[]> = {
    SweepInventory: ['Nothing was checked tonight, so no finding was updated or resolved.'],
    MergeSweep: [
      'The checks ran, but their findings could not be merged: no alert went out tonight, and no finding was updated or resolved.',
    ],
    PublishSweepAlerts: context.unrecorded
      ? [
          'The error above names the alerts that went out: their record could not be written, so the step stopped rather than page again.',
          tomorrow,
        ]
      : context.unknown
        ? [
            `Some of tonight's alerts may have gone out before it failed (their record could not be read: ${context.unknown}).`,
            tomorrow,
          ]
        : sent.length
          ? [
              `${sent.length}${of} alert(s) are recorded as sent before it failed:`,
              ...sent.map((s) => `- ${s}`),
              ...maybe,
              tomorrow,
            ]
          : ['No alert is recorded as sent tonight.', ...maybe, tomorrow],
    CommitSweep: context.memorySaved
      ? [`All${of} alert(s) went out, and the alert memory was saved after all (the answer of that write was lost).`]
      : [
          `All${of} alert(s) went out, but the alert memory could not be saved: tomorrow's sweep reports these findings again as new.`,
        ],
  };
  return {
    subject: snsSubject(`[CRITICAL] nightly sweep failed: ${context.error}`),
    message: [
      `The nightly sweep of stage ${context.stage} failed at ${context.step} with ${context.error}: ${context.problem}`,
      '',
      `How to fix: ${context.fix ?? 'see the error; the next night runs again.'}`,
      ...what[context.step],
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: 'sweep',
  };
}

/**
 * The alert for one check that could not run tonight (the others still report): what failed,
 * and that its findings from earlier nights are kept open, neither re-alerted nor resolved.
 */
export function checkFailureAlert(context: {
  stage: string;
  check: Check;
  error: string;
  problem: string;
  fix?: string;
  partial?: string;
}): SweepAlert {
  return {
    subject: snsSubject(`[CRITICAL] nightly ${context.check} check failed: ${context.error}`),
    message: [
      `The nightly ${context.check} check of stage ${context.stage} ${context.partial ?? 'could not run'}: ${context.error}: ${context.problem}`,
      '',
      `How to fix: ${context.fix ?? 'see the error; the next night runs again.'}`,
      `The other checks ran and reported. ${context.check} findings from earlier nights are kept as they were: none is resolved tonight.`,
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: context.check,
  };
}
