import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { AwsTransientError } from '../errors';
import { mustGet, type RunStore } from '../store';
import { monthlyCost } from '../pricing';
import { hybridSpend, monthToDate } from './cost-aws';
import { costFindings, type IdleNode, idleNodeFindings } from './cost-findings';
import { CachedCostNamesSchema } from './cost-names';
import { accountLabel, type Inventory } from './inventory';
import type { CheckPart } from './state';
import { COST_NAMES_KEY, runKeys } from './store';
import type { NightInventory } from './sweep-inventory';

/** Nodes that bill without working: NotReady, or their SSM agent has lost its connection. */
export function idleNodes(cluster: Inventory['clusters'][number]): IdleNode[] {
  const ping = new Map(cluster.instances.map((i) => [i.instanceId, i.pingStatus]));
  return cluster.nodes.flatMap((n): IdleNode[] => {
    if (!n.ready) return [{ name: n.name, vcpus: n.vcpus, since: n.since, reason: `NotReady (${n.reason})` }];
    if (ping.get(n.name) === 'ConnectionLost')
      return [{ name: n.name, vcpus: n.vcpus, reason: 'Ready but its SSM agent is ConnectionLost' }];
    return [];
  });
}

/** Step SweepCost: Cost Explorer's month to date and forecast against what the hybrid Nodes explain. */
export async function sweepCost(
  deps: { ce: CostExplorerClient; store: RunStore },
  input: { sweepId: string; now: Date },
): Promise<CheckPart> {
  const night = await mustGet<NightInventory>(deps.store, runKeys(input.sweepId).inventory);
  const { config, inventory } = night;
  const price = config.pricePerVcpuHour;
  const vcpus = inventory.clusters.reduce((sum, c) => sum + c.nodes.reduce((s, n) => s + n.vcpus, 0), 0);
  const expectedMonthUsd = monthlyCost(vcpus, { pricePerVcpuHour: price });
  // The names discovery found this month, if kept: a night that has them asks no GetDimensionValues.
  // An object that does not parse is no cache (the night discovers again and replaces it).
  const cached = CachedCostNamesSchema.safeParse(await deps.store.getJson(COST_NAMES_KEY));
  const actual = await hybridSpend(deps.ce, {
    ...monthToDate(input.now),
    service: config.costService,
    usageTypes: config.hybridUsageTypes,
    ...(cached.success ? { cached: cached.data } : {}),
  }).catch((error: unknown) => {
    // Cost Explorer throttles with LimitExceededException (elsewhere that name means a quota).
    if ((error as Error).name !== 'LimitExceededException') throw error;
    throw new AwsTransientError(
      `Cost Explorer is throttling: ${(error as Error).message}`,
      'The step retries with backoff; Cost Explorer allows a few requests a second.',
    );
  });
  const findings = [
    ...costFindings({
      cluster: accountLabel(inventory),
      expectedMonthUsd,
      actual,
      budgetUsd: config.monthlyBudgetUsd,
      pricePerVcpuHour: price,
    }),
    ...inventory.clusters.flatMap((c) => idleNodeFindings(c.name, idleNodes(c), price)),
  ];
  const key = runKeys(input.sweepId).findings('cost');
  // Kept before the findings: a retry after a failed write then asks no GetDimensionValues again.
  if (actual.keep) await deps.store.putJson(COST_NAMES_KEY, actual.keep);
  await deps.store.putJson(key, findings);
  return {
    key,
    findings: findings.length,
    summary: {
      vcpus,
      expectedMonthUsd,
      actualUsd: actual.actualUsd,
      serviceUsd: actual.serviceUsd,
      forecastUsd: actual.forecastUsd ?? null,
      budgetUsd: config.monthlyBudgetUsd ?? null,
      // Which Cost Explorer names were asked about, and whether the config or discovery chose them.
      costService: actual.names.services,
      usageTypes: actual.names.usageTypes,
      namesFrom: { service: actual.names.servicesFrom, usageTypes: actual.names.usageTypesFrom },
      // The day the discovered names were found, when they are the month's kept ones.
      namesDiscoveredOn: actual.names.discoveredOn ?? null,
      costExplorerRequests: actual.requests,
      dimensionValuesRequests: actual.names.requests,
    },
  };
}
