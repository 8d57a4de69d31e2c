import type { DesiredState } from '../desired-state/schema';
import type { RunStore } from '../store';
import { type SweepConfig, sweepConfigOf } from './config';
import { type Inventory, type InventoryDeps, takeInventory } from './inventory';
import { runKeys } from './store';

/** Probe targets per Map item: one Lambda probes one batch. */
export const TARGETS_PER_BATCH = 200;

/** What the inventory step writes for the steps after it. */
export interface NightInventory {
  sweepId: string;
  config: SweepConfig;
  desired: DesiredState;
  inventory: Inventory;
}

export interface Batch {
  key: string;
  targets: number;
}

export interface InventorySummary {
  sweepId: string;
  takenAt: string;
  /** Per cluster its hybrid Nodes: all, NotReady, and Ready but cordoned (the two never overlap). */
  clusters: Array<{ name: string; nodes: number; notReady: number; cordoned: number; problem?: string }>;
  batches: Batch[];
  targets: number;
  pages: Record<string, number>;
}

/** Step SweepInventory: reads the estate once, writes it and the probe batches, returns counts and keys. */
export async function sweepInventory(
  deps: InventoryDeps & { store: RunStore },
  input: {
    sweepId: string;
    desired: DesiredState;
    stageCluster: string;
    region: string;
    hybridNodesRoleName: string;
    now: Date;
  },
): Promise<InventorySummary> {
  const config = sweepConfigOf(input.desired);
  const inventory = await takeInventory(deps, input);
  const keys = runKeys(input.sweepId);
  const night: NightInventory = { sweepId: input.sweepId, config, desired: input.desired, inventory };
  await deps.store.putJson(keys.inventory, night);
  const batches: Batch[] = [];
  for (let i = 0; i < inventory.targets.length; i += TARGETS_PER_BATCH) {
    const targets = inventory.targets.slice(i, i + TARGETS_PER_BATCH);
    const key = keys.batch(batches.length);
    await deps.store.putJson(key, { targets, probe: config.probe });
    batches.push({ key, targets: targets.length });
  }
  return {
    sweepId: input.sweepId,
    takenAt: inventory.takenAt,
    clusters: inventory.clusters.map((c) => ({
      name: c.name,
      nodes: c.nodes.length,
      notReady: c.nodes.filter((n) => !n.ready).length,
      cordoned: c.nodes.filter((n) => n.ready && n.cordoned).length,
      ...(c.problem ? { problem: c.problem.message } : {}),
    })),
    batches,
    targets: inventory.targets.length,
    pages: inventory.pages,
  };
}
