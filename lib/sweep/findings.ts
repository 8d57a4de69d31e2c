/**
 * What a nightly sweep finds, and what operators have already been told. A finding has a stable
 * `id` (what it is about, not its numbers), so the same problem found again tomorrow is the same
 * finding: alerted once when new or worse, a digest line while it lasts, a line when it resolves.
 */

export const CHECKS = ['cost', 'connectivity', 'compliance'] as const;
export type Check = (typeof CHECKS)[number];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface SweepFinding {
  /** Stable identity, e.g. `compliance:unsupported-os:mi-0123...`. */
  id: string;
  check: Check;
  severity: Severity;
  cluster: string;
  resource: string;
  message: string;
  /** The numbers behind it: latency samples, amounts, dates. */
  evidence?: string;
  fix: string;
}

/** What was reported, per finding id. Kept between nights (an SSM parameter in AWS). */
export interface AlertMemory {
  version: 1;
  findings: Record<
    string,
    { severity: Severity; cluster: string; resource: string; firstSeen: string; lastAlerted: string }
  >;
}

export const emptyMemory = (): AlertMemory => ({ version: 1, findings: {} });

export interface Triage {
  /** Not seen before: alert. */
  fresh: SweepFinding[];
  /** Seen before, now more severe: alert again. */
  worsened: SweepFinding[];
  /** Seen before, same or less severe: a digest line, no page. */
  ongoing: SweepFinding[];
  /** Reported before, not found tonight: say it resolved. */
  resolved: Array<{ id: string; cluster: string; resource: string; severity: Severity }>;
  memory: AlertMemory;
}

/** info < warning < critical. */
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * Sorts tonight's findings against what was reported before, and gives the memory to keep.
 * `unchecked` names findings that could not be looked at tonight (their check failed): if not
 * found, they are kept as they were rather than resolved.
 */
export function triage(
  memory: AlertMemory,
  findings: SweepFinding[],
  now: Date,
  unchecked: (id: string) => boolean = () => false,
): Triage {
  const at = now.toISOString();
  const result: Triage = { fresh: [], worsened: [], ongoing: [], resolved: [], memory: emptyMemory() };
  const seen = new Set<string>();
  for (const finding of findings) {
    if (seen.has(finding.id)) continue; // one finding per id per night
    seen.add(finding.id);
    const before = memory.findings[finding.id];
    const entry = { severity: finding.severity, cluster: finding.cluster, resource: finding.resource };
    if (!before) {
      result.fresh.push(finding);
      result.memory.findings[finding.id] = { ...entry, firstSeen: at, lastAlerted: at };
    } else if (severityRank(finding.severity) > severityRank(before.severity)) {
      result.worsened.push(finding);
      result.memory.findings[finding.id] = { ...entry, firstSeen: before.firstSeen, lastAlerted: at };
    } else {
      result.ongoing.push(finding);
      result.memory.findings[finding.id] = { ...entry, firstSeen: before.firstSeen, lastAlerted: before.lastAlerted };
    }
  }
  for (const [id, before] of Object.entries(memory.findings)) {
    if (seen.has(id)) continue;
    if (unchecked(id)) result.memory.findings[id] = before;
    else result.resolved.push({ id, cluster: before.cluster, resource: before.resource, severity: before.severity });
  }
  return result;
}
