import { mustGet, type RunStore } from '../store';
import type { AlertMemory } from './findings';
import { MEMORY_KEY, runKeys } from './store';

/** Step CommitSweep: tonight's memory becomes the memory, only once the alerts are out. */
export async function commitSweep(
  deps: { store: RunStore },
  input: { sweepId: string },
): Promise<{ remembered: number }> {
  const memory = await mustGet<AlertMemory>(deps.store, runKeys(input.sweepId).pendingMemory);
  await deps.store.putJson(MEMORY_KEY, memory);
  return { remembered: Object.keys(memory.findings).length };
}
