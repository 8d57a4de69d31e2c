/** Where a night's objects live in the run store (lib/store.ts), and the alert memory between nights. */

import type { PublishRecord } from './publish-sweep-alerts';

export const MEMORY_KEY = 'alert-memory.json';
/** The Cost Explorer names discovery found this month (lib/sweep/cost-names.ts CachedCostNames). */
export const COST_NAMES_KEY = 'cost-names.json';

/** The keys of one night's objects. */
export const runKeys = (sweepId: string) => ({
  inventory: `runs/${sweepId}/inventory.json`,
  batch: (n: number) => `runs/${sweepId}/targets/${String(n).padStart(4, '0')}.json`,
  findings: (part: string) => `runs/${sweepId}/findings/${part}.json`,
  pendingMemory: `runs/${sweepId}/alert-memory.json`,
  report: `runs/${sweepId}/report.json`,
  /** The alerts PublishSweepAlerts has sent so far (a retry skips them). */
  published: `runs/${sweepId}/published.json`,
});

/** A record's subjects: those SNS answered for, and those sent without an answer (they may have gone out). */
export function recordedSubjects(record: PublishRecord): { sent: string[]; maybe: string[] } {
  return {
    sent: record.filter((e) => e.messageId !== undefined).map((e) => e.subject),
    maybe: record.filter((e) => e.messageId === undefined && e.unanswered).map((e) => e.subject),
  };
}
