import { type CaughtError, describeCaughtError } from '../caught-error';
import { mustGet, type RunStore } from '../store';
import { checkFailureAlert, type SweepAlert, sweepAlerts } from './alerts';
import {
  type AlertMemory,
  CHECKS,
  type Check,
  emptyMemory,
  SEVERITIES,
  type Severity,
  type SweepFinding,
  severityRank,
  triage,
} from './findings';
import type { CheckOutcome } from './state';
import { MEMORY_KEY, runKeys } from './store';

/** Findings listed in the execution output (every finding is in the report object). */
export const MAX_OUTPUT_FINDINGS = 50;

/** A finding as the execution output lists it. */
export interface ReportedFinding {
  id: string;
  check: Check;
  severity: SweepFinding['severity'];
  cluster: string;
  resource: string;
  message: string;
  evidence?: string;
  fix: string;
  status: 'new' | 'worse' | 'open';
}

export interface NightReport {
  sweepId: string;
  findings: ReportedFinding[];
  findingsTotal: number;
  counts: { new: number; worse: number; open: number; resolved: number };
  resolved: Array<{ id: string; cluster: string; resource: string }>;
  failedChecks: Check[];
  /** Tonight's findings (all of them, not only the listed ones) per check and severity. */
  findingCounts: FindingCounts;
  alerts: SweepAlert[];
  /** How many alerts the night has (the state carries none: PublishSweepAlerts reads them from the report). */
  alertCount: number;
  /** Where every finding and alert of the night is (an S3 key in the run store). */
  reportKey: string;
}

export type FindingCounts = Record<Check, Record<Severity, number>>;

/** Findings per check and severity, every pair present (zero when none). */
export function countFindings(findings: Array<Pick<SweepFinding, 'check' | 'severity'>>): FindingCounts {
  const counts = Object.fromEntries(
    CHECKS.map((c) => [c, Object.fromEntries(SEVERITIES.map((s) => [s, 0]))]),
  ) as FindingCounts;
  for (const f of findings) counts[f.check][f.severity] += 1;
  return counts;
}

/** Step MergeSweep: tonight's findings against the memory: what to page, what to digest, what resolved. */
export async function mergeSweep(
  deps: { store: RunStore },
  input: { sweepId: string; stage: string; now: Date; outcomes: CheckOutcome[]; reportUri?: string },
): Promise<NightReport> {
  const keys = runKeys(input.sweepId);
  const findings: SweepFinding[] = [];
  // One failure alert per check: the branch's own error, else its first failed part's.
  const failures: Array<{ check: Check; failed: CaughtError; partial?: string }> = [];
  for (const outcome of input.outcomes) {
    const failedParts = outcome.parts.filter((p): p is { failed: CaughtError } => 'failed' in p);
    if (outcome.failed) failures.push({ check: outcome.check, failed: outcome.failed });
    if (failedParts[0]) {
      const partial = `ran only in part (${failedParts.length} of ${outcome.parts.length} parts failed)`;
      failures.push({ check: outcome.check, failed: failedParts[0].failed, partial });
    }
    for (const part of outcome.parts) {
      if ('key' in part) findings.push(...(await mustGet<SweepFinding[]>(deps.store, part.key)));
    }
  }
  const failedChecks = [...new Set(failures.map((f) => f.check))];
  const memory = (await deps.store.getJson<AlertMemory>(MEMORY_KEY)) ?? emptyMemory();
  const t = triage(memory, findings, input.now, (id) => failedChecks.some((c) => id.startsWith(`${c}:`)));
  const alerts = [
    ...failures.map(({ check, failed, partial }) => {
      const { name, problem, fix } = describeCaughtError(failed);
      return checkFailureAlert({ stage: input.stage, check, error: name, problem, fix, partial });
    }),
    ...sweepAlerts(t, { stage: input.stage, date: input.now.toISOString().slice(0, 10), report: input.reportUri }),
  ];
  const statuses = [
    ['new', t.fresh],
    ['worse', t.worsened],
    ['open', t.ongoing],
  ] as const;
  const reported = statuses
    .flatMap(([status, found]) =>
      found.map((f): ReportedFinding => ({
        id: f.id,
        check: f.check,
        severity: f.severity,
        cluster: f.cluster,
        resource: f.resource,
        message: f.message,
        ...(f.evidence ? { evidence: f.evidence } : {}),
        fix: f.fix,
        status,
      })),
    )
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  const report: NightReport = {
    sweepId: input.sweepId,
    findings: reported,
    findingsTotal: reported.length,
    counts: { new: t.fresh.length, worse: t.worsened.length, open: t.ongoing.length, resolved: t.resolved.length },
    resolved: t.resolved.map(({ id, cluster, resource }) => ({ id, cluster, resource })),
    failedChecks,
    findingCounts: countFindings(reported),
    alerts,
    alertCount: alerts.length,
    reportKey: keys.report,
  };
  await deps.store.putJson(keys.report, report);
  await deps.store.putJson(keys.pendingMemory, t.memory);
  // The state carries the most severe findings and no alerts (PublishSweepAlerts reads them from the
  // report); the full report is in the store.
  return { ...report, findings: reported.slice(0, MAX_OUTPUT_FINDINGS), alerts: [] };
}
