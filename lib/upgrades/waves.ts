import type { RunStore } from '../store';
import { type NodeOutcome, upgradeKeys } from './state';

/** What RecordUpgradeWave hands on: the next wave's index, and whether to go on to it. */
export interface WaveRecord {
  /** The next wave's index (also how many waves are recorded). */
  index: number;
  goOn: boolean;
  /** The wave just recorded, counted. */
  last: { upgraded: number; skipped: number; failed: number };
}

/**
 * Writes one wave's node outcomes to the run store (a retry writes the same object again), and
 * says whether the rollout goes on: not after a wave in which a node failed (the first failure
 * stops the rollout; the nodes after it are left untouched), nor after the last wave.
 */
export async function recordUpgradeWave(
  deps: { store: RunStore },
  input: { upgradeId: string; waveCount: number; wave: { index: number; results: NodeOutcome[] } },
): Promise<WaveRecord> {
  const { index, results } = input.wave;
  await deps.store.putJson(upgradeKeys(input.upgradeId).wave(index), results);
  const count = (outcome: NodeOutcome['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const last = { upgraded: count('upgraded'), skipped: count('skipped'), failed: count('failed') };
  return { index: index + 1, goOn: last.failed === 0 && index + 1 < input.waveCount, last };
}
