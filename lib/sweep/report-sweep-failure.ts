import { type CaughtError, describeCaughtError } from '../caught-error';
import { AlertsUnrecordedError } from '../errors';
import type { Notification } from '../notifications';
import type { RunStore } from '../store';
import { sweepFailureAlert, type SweepStep } from './alerts';
import type { AlertMemory } from './findings';
import type { PublishRecord } from './publish-sweep-alerts';
import type { PublishedAlert } from './state';
import { MEMORY_KEY, recordedSubjects, runKeys } from './store';

/** Where a failed night stopped, from which parts of its state exist. */
export function failedSweepStep(state: { inventory?: unknown; report?: unknown; published?: unknown }): SweepStep {
  if (!state.inventory) return 'SweepInventory';
  if (!state.report) return 'MergeSweep';
  if (!state.published) return 'PublishSweepAlerts';
  return 'CommitSweep';
}

/**
 * The alert for a sweep that could not finish, true to how far it got: the alerts that went out
 * before it failed (the step's result, else its record in the run store), and whether the alert
 * memory holds tonight's (a CommitSweep whose answer was lost) or still the last night's.
 */
export async function reportSweepFailure(
  deps: { store?: RunStore },
  input: {
    stage: string;
    failure: CaughtError;
    sweepId?: string;
    step: SweepStep;
    alertCount?: number;
    published?: PublishedAlert[];
  },
): Promise<{ summary: string; notification: Notification }> {
  const { name, problem, fix } = describeCaughtError(input.failure);
  let sent = input.published?.map((a) => a.subject);
  let unconfirmed: string[] = [];
  let unknown: string | undefined;
  let memorySaved = false;
  // The step stopped because its record could not be written: the record is stale, the error
  // names what went out.
  const unrecorded = name === AlertsUnrecordedError.errorName;
  if (deps.store && input.sweepId && input.step !== 'SweepInventory' && !unrecorded) {
    const keys = runKeys(input.sweepId);
    try {
      if (!sent && input.step === 'PublishSweepAlerts') {
        const record = (await deps.store.getJson<PublishRecord>(keys.published)) ?? [];
        ({ sent, maybe: unconfirmed } = recordedSubjects(record));
      }
      if (input.step === 'CommitSweep') {
        const [memory, tonight] = await Promise.all([
          deps.store.getJson<AlertMemory>(MEMORY_KEY),
          deps.store.getJson<AlertMemory>(keys.pendingMemory),
        ]);
        memorySaved = tonight !== undefined && JSON.stringify(memory) === JSON.stringify(tonight);
      }
    } catch (error) {
      unknown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return {
    summary: `The nightly sweep failed at ${input.step} with ${name}: ${problem}`,
    notification: sweepFailureAlert({
      stage: input.stage,
      error: name,
      problem,
      fix,
      step: input.step,
      sent,
      unconfirmed,
      alertCount: input.alertCount,
      unknown,
      unrecorded,
      memorySaved,
    }),
  };
}
