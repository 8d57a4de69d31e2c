import type { NightReport } from './merge-sweep';
import type { PublishedAlert } from './state';
import type { InventorySummary } from './sweep-inventory';

/** What the nightly sweep's execution outputs (statemachines/nightly-sweep.asl.json, state Done). */
export type SweepOutput = Pick<
  NightReport,
  'sweepId' | 'findings' | 'findingsTotal' | 'counts' | 'resolved' | 'failedChecks'
> & {
  alerts: PublishedAlert[];
  /** The night's full report, a key in the run store. */
  report: string;
  inventory: Pick<InventorySummary, 'clusters' | 'targets' | 'pages'>;
};
