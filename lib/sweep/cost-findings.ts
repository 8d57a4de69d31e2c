import { CE_REQUEST_USD, discoveryPeriod, periodHours, type HybridSpend, serviceLabel } from './cost-aws';
import { cents, costForHours, HOURS_PER_MONTH, HYBRID_VCPU_HOUR_USD, micro, usd } from '../pricing';
import { describeNames } from './cost-names';
import type { SweepFinding } from './findings';

/** The nightly sweep's cost findings, from what Cost Explorer says (cost-aws.ts) and what the Nodes explain. */

/** A NotReady Node (or one whose managed instance is ConnectionLost): it bills all the same. */
export interface IdleNode {
  name: string;
  vcpus: number;
  /** When it stopped being Ready (ISO timestamp), if known. */
  since?: string;
  /** What is wrong with it; default "NotReady". */
  reason?: string;
}

/** Actual month to date above this multiple of the expected month to date is a finding. */
export const ACTUAL_OVER_EXPECTED = 1.5;
/** A forecast above this share of the budget is a warning; above the budget, critical. */
export const BUDGET_WARNING_SHARE = 0.9;

/** What the cost findings are judged on. */
interface CostInput {
  cluster: string;
  expectedMonthUsd: number;
  actual: HybridSpend;
  budgetUsd?: number;
  pricePerVcpuHour?: number;
}

/** A cost finding before it is stamped with its check and cluster. */
type Found = Omit<SweepFinding, 'check' | 'cluster'>;

/** What every cost finding quotes: the month, the service, and which Cost Explorer names it asked about. */
function contextOf(actual: HybridSpend) {
  const discovered = actual.names.requests ? `, ${actual.names.requests} of them GetDimensionValues` : '';
  const asked = `${actual.requests} Cost Explorer request${actual.requests === 1 ? '' : 's'} (${usd(actual.requests * CE_REQUEST_USD)}${discovered})`;
  return {
    month: actual.period.start.slice(0, 7),
    asked,
    // Every cost finding says which Cost Explorer names it is about and how they were found.
    names: `${describeNames(actual.names)}; ${asked}.`,
    service: serviceLabel(actual.names),
  };
}

/**
 * The sweep's account-wide cost findings: the month's forecast against the stage's budget, and
 * actual spend far above what the hybrid Nodes explain (each idle Node is
 * {@link idleNodeFindings}, per cluster). `expectedMonthUsd` is for a 730-hour month (see
 * `monthlyCost`); the month to date expected is its hourly share times the hours elapsed in
 * `actual.period`. When Cost Explorer lists no EKS service, that is the only finding.
 */
export function costFindings(input: CostInput): SweepFinding[] {
  const found = input.actual.names.services.length
    ? [...budgetFindings(input), ...actualSpendFindings(input)]
    : [serviceNotFound(input)];
  return found.map((f): SweepFinding => ({ check: 'cost', cluster: input.cluster, ...f }));
}

/** No EKS service in Cost Explorer: nothing could be compared tonight. */
function serviceNotFound({ actual, budgetUsd }: CostInput): Found {
  const { asked } = contextOf(actual);
  const listed = actual.names.listedServices;
  return {
    id: 'cost:service-not-found',
    severity: 'info',
    resource: 'Cost Explorer SERVICE',
    message: `Cost Explorer lists no EKS service from ${discoveryPeriod(actual.period).start} to ${actual.period.end}, so tonight nothing was compared with ${budgetUsd === undefined ? 'what the hybrid Nodes explain' : `the monthly budget of ${usd(budgetUsd)} or with what the hybrid Nodes explain`}.`,
    evidence: `Services with spend then: ${listed.slice(0, 20).join(', ') || 'none'}${listed.length > 20 ? `, and ${listed.length - 20} more` : ''}; none is an Amazon service naming Kubernetes. ${asked}.${actual.names.note ? ` ${actual.names.note}` : ''}`,
    fix: 'A new account or cluster takes up to a day to appear in Cost Explorer. If EKS bills under a name this sweep does not recognise, set sweep.costService (and sweep.hybridUsageTypes) in config/<stage>.yaml to the names Cost Explorer lists; discovery is then skipped.',
  };
}

/** The month's forecast (or, without one, the spend so far) against the stage's budget. */
function budgetFindings({ actual, budgetUsd }: CostInput): Found[] {
  if (budgetUsd === undefined) return [];
  const { month, names, service } = contextOf(actual);
  const budget = `the monthly budget of ${usd(budgetUsd)}`;
  if (actual.forecastUsd !== undefined && actual.forecastUsd > budgetUsd * BUDGET_WARNING_SHARE) {
    const over = actual.forecastUsd > budgetUsd;
    const share = Math.round((actual.forecastUsd / budgetUsd) * 100);
    return [
      {
        id: `cost:budget:${service}`,
        severity: over ? 'critical' : 'warning',
        resource: service,
        message: `${service} is forecast at ${usd(actual.forecastUsd)} for ${month}, ${share}% of ${budget}.`,
        evidence: `${usd(actual.serviceUsd)} month to date (before ${actual.period.end}) + ${usd(actual.forecastRestUsd ?? 0)} Cost Explorer forecast for the rest of the month. ${names}`,
        fix: over
          ? 'Remove idle or NotReady hybrid nodes (delete their Node objects) and move work that does not need GPUs to AWS, or raise the budget if the spend is intended.'
          : 'Check for idle or NotReady hybrid nodes before the month ends; raise the budget if the growth is intended.',
      },
    ];
  }
  if (actual.forecastUsd === undefined && actual.serviceUsd > budgetUsd) {
    return [
      {
        id: `cost:budget:${service}`,
        severity: 'critical',
        resource: service,
        message: `${service} has already cost ${usd(actual.serviceUsd)} in ${month}, over ${budget}.`,
        evidence: `Month to date before ${actual.period.end}; no forecast: ${actual.forecastNote ?? 'none returned'} ${names}`,
        fix: 'Remove idle or NotReady hybrid nodes (delete their Node objects), or raise the budget if the spend is intended.',
      },
    ];
  }
  if (actual.forecastUsd === undefined) {
    return [
      {
        id: `cost:budget-unchecked:${service}`,
        severity: 'info',
        resource: service,
        message: `No forecast for ${month}, so ${budget} was checked against the ${usd(actual.serviceUsd)} spent so far only.`,
        evidence: `${actual.forecastNote ?? 'Cost Explorer returned no forecast.'} ${names}`,
        fix: 'Nothing to do now; Cost Explorer forecasts once it has enough history.',
      },
    ];
  }
  return [];
}

/** The month to date of the hybrid vCPU usage against what the cluster's hybrid Nodes explain. */
function actualSpendFindings({ actual, cluster, expectedMonthUsd, pricePerVcpuHour }: CostInput): Found[] {
  const { month, names, service } = contextOf(actual);
  const price = pricePerVcpuHour ?? HYBRID_VCPU_HOUR_USD;
  const elapsedHours = periodHours(actual.period);
  if (!(elapsedHours > 0) || actual.actualNote) return [];
  const expectedToDate = cents(micro(expectedMonthUsd) * (elapsedHours / HOURS_PER_MONTH));
  const expectation = `${usd(expectedMonthUsd)} a 730-hour month at ${price} USD per vCPU-hour, ${elapsedHours} h elapsed`;
  const usageTypes = actual.names.usageTypes;
  if (!usageTypes.some((t) => actual.serviceUsageTypes.includes(t)) && expectedMonthUsd > 0) {
    return [
      {
        id: `cost:usage-type-not-found:${service}`,
        severity: 'info',
        resource: service,
        message: `No hybrid vCPU usage in ${service} for ${month}, though ${cluster}'s hybrid Nodes should have cost ${usd(expectedToDate)} so far: actual spend was not compared with expected.`,
        evidence: `Usage types this month: ${actual.serviceUsageTypes.join(', ') || 'none'}; expected ${expectation}. ${names}`,
        fix: 'Find the hybrid nodes usage type in Cost Explorer (the service grouped by usage type) and set sweep.hybridUsageTypes in config/<stage>.yaml if discovery does not recognise it; new usage can take a day to appear.',
      },
    ];
  }
  if (actual.actualUsd > expectedToDate * ACTUAL_OVER_EXPECTED) {
    return [
      {
        id: `cost:actual-over-expected:${cluster}`,
        severity: 'warning',
        resource: usageTypes.join(', '),
        message: `Hybrid nodes have cost ${usd(actual.actualUsd)} in ${month} to date, over ${ACTUAL_OVER_EXPECTED}x the ${usd(expectedToDate)} that ${cluster}'s hybrid Nodes explain.`,
        evidence: `${actual.vcpuHours} vCPU-hours of ${usageTypes.join(', ')} before ${actual.period.end}; expected ${expectation}. ${names}`,
        fix: 'Look for hybrid Nodes in another cluster or Region of this account, or deleted and re-created; check the per-vCPU-hour price on the EKS pricing page and update the configured price if it changed.',
      },
    ];
  }
  return [];
}

/** The quiet loss: each NotReady (or unreachable) Node with what it costs a day, since it still bills. */
export function idleNodeFindings(cluster: string, nodes: IdleNode[], pricePerVcpuHour: number): SweepFinding[] {
  return nodes.map((node) => {
    const perDay = costForHours(node.vcpus, 24, pricePerVcpuHour);
    return {
      id: `cost:not-ready:${node.name}`,
      check: 'cost',
      cluster,
      severity: 'warning',
      resource: node.name,
      message: `Node ${node.name} is ${node.reason ?? 'NotReady'}${node.since ? ` since ${node.since}` : ''} and still billing: ${usd(perDay)} per day.`,
      evidence: `${node.vcpus} vCPU x ${pricePerVcpuHour} USD per vCPU-hour x 24 h.`,
      fix: `Bring the node back (kubelet, CNI, its link to the cluster), or if it is gone for good offboard it: DELETE /nodes/${node.name} (locally: hybridops run offboard-node with the input {"node": "${node.name}"}). That drains it, runs nodeadm uninstall if its host still answers, deletes the Node object and deregisters its managed instance. Hybrid nodes bill until the Node object is deleted.`,
    };
  });
}
