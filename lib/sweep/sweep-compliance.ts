import { mustGet, type RunStore } from '../store';
import { complianceFindings } from './compliance';
import type { SweepFinding } from './findings';
import type { CheckPart } from './state';
import { runKeys } from './store';
import type { NightInventory } from './sweep-inventory';

/** Step SweepCompliance: every cluster's compliance findings; a cluster that cannot be read is one. */
export async function sweepCompliance(
  deps: { store: RunStore },
  input: { sweepId: string; now: Date },
): Promise<CheckPart> {
  const { inventory } = await mustGet<NightInventory>(deps.store, runKeys(input.sweepId).inventory);
  const findings = inventory.clusters.flatMap((c): SweepFinding[] => {
    if (!c.facts) {
      return [
        {
          id: `compliance:cluster-unreadable:${c.name}`,
          check: 'compliance',
          cluster: c.name,
          severity: 'critical',
          resource: c.name,
          message: `Cluster ${c.name} could not be swept: ${c.problem?.message ?? 'unknown'}`,
          fix: c.problem?.fix ?? 'Check the cluster name in config/<stage>.yaml and the stage parameter clusterName.',
        },
      ];
    }
    return complianceFindings({ ...c, cluster: c.facts, now: input.now });
  });
  const key = runKeys(input.sweepId).findings('compliance');
  await deps.store.putJson(key, findings);
  return { key, findings: findings.length };
}
