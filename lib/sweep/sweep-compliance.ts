import { mustGet, type RunStore } from '../store';
import { complianceFindings } from './compliance';
import type { SweepFinding } from './findings';
import { accountLabel } from './inventory';
import { ssmTierFindings } from './ssm-tier-findings';
import type { CheckPart } from './state';
import { runKeys } from './store';
import type { NightInventory } from './sweep-inventory';

/**
 * Step SweepCompliance: every cluster's compliance findings (a cluster that cannot be read is
 * one), and the account's on-prem managed instances against SSM's standard tier.
 */
export async function sweepCompliance(
  deps: { store: RunStore },
  input: { sweepId: string; now: Date },
): Promise<CheckPart> {
  const { inventory, config } = await mustGet<NightInventory>(deps.store, runKeys(input.sweepId).inventory);
  const clusterFindings = inventory.clusters.flatMap((c): SweepFinding[] => {
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
    return complianceFindings({ ...c, cluster: c.facts, now: input.now, pricePerVcpuHour: config.pricePerVcpuHour });
  });
  const findings = [...clusterFindings, ...ssmTierFindings(inventory.ssmQuota, accountLabel(inventory))];
  const key = runKeys(input.sweepId).findings('compliance');
  await deps.store.putJson(key, findings);
  return { key, findings: findings.length };
}
