import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { AlertsUnrecordedError, AwsTransientError } from '../errors';
import type { DnsLookup } from '../net/dns';
import type { Prober } from '../net/probe';
import type { DesiredState } from '../desired-state/schema';
import { type SweepConfig, sweepConfigOf } from './config';
import { checkNameResolution, resolutionProblem } from '../net/resolution';
import { type CaughtError, describeCaughtError } from '../caught-error';
import type { Notification } from '../notifications';
import { checkFailureAlert, type SweepAlert, sweepAlerts, sweepFailureAlert, type SweepStep } from './alerts';
import { complianceFindings } from './compliance';
import { classifyLink, connectivityFinding, linkStats, type ProbeTarget } from './connectivity';
import { monthlyCost } from './cost';
import { costFindings, hybridSpend, type IdleNode, idleNodeFindings, monthToDate } from './cost-explorer';
import { type AlertMemory, type Check, emptyMemory, type SweepFinding, severityRank, triage } from './findings';
import { type Inventory, type InventoryDeps, takeInventory } from './inventory';
import type { PublishedAlert, PublishRecord } from './publish';
import { MEMORY_KEY, recordedSubjects, runKeys } from './store';
import { mustGet, type RunStore } from '../store';

/**
 * The nightly sweep, step by step, as the state machine runs it. Each step reads what the one
 * before wrote to the sweep store and passes on only keys and counts, so the state stays small
 * however many nodes there are: Step Functions allows 256 KiB per state.
 */

/** Probe targets per Map item: one Lambda probes one batch. */
export const TARGETS_PER_BATCH = 200;
/** TCP probes a probe Lambda runs at once. */
export const PROBE_CONCURRENCY = 25;
/** Findings listed in the execution output (every finding is in the report object). */
export const MAX_OUTPUT_FINDINGS = 50;

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
  clusters: Array<{ name: string; nodes: number; notReady: number; problem?: string }>;
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
      ...(c.problem ? { problem: c.problem.message } : {}),
    })),
    batches,
    targets: inventory.targets.length,
    pages: inventory.pages,
  };
}

/** What one part of a check (the whole cost check, one probe batch, ...) hands the merge step. */
export interface CheckPart {
  /** Where its findings are. */
  key: string;
  findings: number;
  summary?: Record<string, unknown>;
}

/** The account a cluster ARN belongs to, for findings about the whole account (Cost Explorer's view). */
const accountOf = (inventory: Inventory) => {
  const arn = inventory.clusters.find((c) => c.facts)?.facts?.arn;
  return arn ? `account ${arn.split(':')[4]}` : 'account';
};

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
  const actual = await hybridSpend(deps.ce, {
    ...monthToDate(input.now),
    service: config.costService,
    usageTypes: config.hybridUsageTypes,
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
      cluster: accountOf(inventory),
      expectedMonthUsd,
      actual,
      budgetUsd: config.monthlyBudgetUsd,
      pricePerVcpuHour: price,
    }),
    ...inventory.clusters.flatMap((c) => idleNodeFindings(c.name, idleNodes(c), price)),
  ];
  const key = runKeys(input.sweepId).findings('cost');
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
      // Which Cost Explorer names were asked about, and whether the config or discovery chose them.
      costService: actual.names.services,
      usageTypes: actual.names.usageTypes,
      namesFrom: { service: actual.names.servicesFrom, usageTypes: actual.names.usageTypesFrom },
      costExplorerRequests: actual.requests,
      dimensionValuesRequests: actual.names.requests,
    },
  };
}

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

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Step ProbeBatch: TCP connect samples to each target of one batch, classified; findings for the off ones. */
export async function probeBatch(
  deps: { prober: Prober; store: RunStore },
  input: { sweepId: string; batch: string; enabled: boolean },
): Promise<CheckPart> {
  const { targets, probe } = await mustGet<{ targets: ProbeTarget[]; probe: SweepConfig['probe'] }>(
    deps.store,
    input.batch,
  );
  const part = input.batch.split('/').pop()?.replace('.json', '') ?? '0';
  const key = runKeys(input.sweepId).findings(`connectivity-${part}`);
  if (!input.enabled) {
    const clusters = [...new Set(targets.map((t) => t.cluster))];
    const findings: SweepFinding[] = clusters.map((cluster) => ({
      id: `connectivity:probes-off:${cluster}`,
      check: 'connectivity',
      cluster,
      severity: 'info',
      resource: 'connectivity-probes',
      message: `${targets.filter((t) => t.cluster === cluster).length} on-prem paths were not probed: the probe function is not deployed in the cluster VPC.`,
      fix: 'Deploy with --param connectivityProbes=true and vpcSubnetIds / vpcSecurityGroupIds in the cluster VPC (with its route to on-prem).',
    }));
    await deps.store.putJson(key, findings);
    return { key, findings: findings.length, summary: { probed: 0 } };
  }
  const measured = await mapLimit(targets, PROBE_CONCURRENCY, async (target) => {
    const stats = linkStats(await deps.prober.tcpConnectSamples(target.host, target.port, probe));
    return { target, stats, overall: classifyLink(stats).overall };
  });
  const findings = measured.flatMap((m) => connectivityFinding(m.target, m.stats) ?? []);
  await deps.store.putJson(key, findings);
  const classes = { target: 0, warning: 0, critical: 0 };
  for (const m of measured) classes[m.overall] += 1;
  return { key, findings: findings.length, summary: { probed: targets.length, samples: probe.samples, ...classes } };
}

/** Step CheckSweepDns: resolution both ways (an on-prem name from AWS, an AWS name through the inbound endpoint). */
export async function checkSweepDns(
  deps: { dns: DnsLookup; resolver: Route53ResolverClient; store: RunStore },
  input: { sweepId: string; enabled: boolean },
): Promise<CheckPart> {
  const { desired } = await mustGet<NightInventory>(deps.store, runKeys(input.sweepId).inventory);
  const key = runKeys(input.sweepId).findings('connectivity-dns');
  const declared = desired.clusters.filter((c) => c.dns?.checks);
  let findings: SweepFinding[];
  let checked = 0;
  if (!input.enabled) {
    findings = declared.map((c) => ({
      id: `connectivity:dns-checks-off:${c.name}`,
      check: 'connectivity',
      cluster: c.name,
      severity: 'info',
      resource: 'dns-checks',
      message: 'DNS resolution was not checked: the check function is not deployed in the cluster VPC.',
      fix: 'Deploy with --param resolutionChecks=true and vpcSubnetIds / vpcSecurityGroupIds in the cluster VPC.',
    }));
  } else {
    const checks = await checkNameResolution({ dns: deps.dns, resolver: deps.resolver }, desired);
    checked = checks.length;
    findings = checks
      .filter((c) => !c.ok)
      .map((c) => ({
        id: `connectivity:dns:${c.cluster}:${c.direction}:${c.name}`,
        check: 'connectivity',
        cluster: c.cluster,
        severity: 'critical',
        resource: `${c.name} (${c.direction})`,
        ...resolutionProblem(c),
        evidence: `Asked ${c.via}: ${c.error ?? 'no answer'}.`,
      }));
  }
  await deps.store.putJson(key, findings);
  return { key, findings: findings.length, summary: { checked } };
}

/** What a branch of the Parallel state hands on: its parts, or the error that stopped it. */
export interface CheckOutcome {
  check: Check;
  parts: Array<CheckPart | { failed: CaughtError }>;
  failed?: CaughtError;
}

/** A finding as the execution output lists it. */
export interface ReportedFinding {
  id: string;
  check: Check;
  severity: SweepFinding['severity'];
  cluster: string;
  resource: string;
  message: string;
  evidence?: string;
  fix: string;
  status: 'new' | 'worse' | 'open';
}

export interface NightReport {
  sweepId: string;
  findings: ReportedFinding[];
  findingsTotal: number;
  counts: { new: number; worse: number; open: number; resolved: number };
  resolved: Array<{ id: string; cluster: string; resource: string }>;
  failedChecks: Check[];
  alerts: SweepAlert[];
  /** How many alerts the night has (the state carries none: PublishSweepAlerts reads them from the report). */
  alertCount: number;
  /** Where every finding and alert of the night is (an S3 key in the run store). */
  reportKey: string;
}

/** Step MergeSweep: tonight's findings against the memory: what to page, what to digest, what resolved. */
export async function mergeSweep(
  deps: { store: RunStore },
  input: { sweepId: string; stage: string; now: Date; outcomes: CheckOutcome[]; reportUri?: string },
): Promise<NightReport> {
  const keys = runKeys(input.sweepId);
  const findings: SweepFinding[] = [];
  // One failure alert per check: the branch's own error, else its first failed part's.
  const failures: Array<{ check: Check; failed: CaughtError; partial?: string }> = [];
  for (const outcome of input.outcomes) {
    const failedParts = outcome.parts.filter((p): p is { failed: CaughtError } => 'failed' in p);
    if (outcome.failed) failures.push({ check: outcome.check, failed: outcome.failed });
    if (failedParts[0]) {
      const partial = `ran only in part (${failedParts.length} of ${outcome.parts.length} parts failed)`;
      failures.push({ check: outcome.check, failed: failedParts[0].failed, partial });
    }
    for (const part of outcome.parts) {
      if ('key' in part) findings.push(...(await mustGet<SweepFinding[]>(deps.store, part.key)));
    }
  }
  const failedChecks = [...new Set(failures.map((f) => f.check))];
  const memory = (await deps.store.getJson<AlertMemory>(MEMORY_KEY)) ?? emptyMemory();
  const t = triage(memory, findings, input.now, (id) => failedChecks.some((c) => id.startsWith(`${c}:`)));
  const alerts = [
    ...failures.map(({ check, failed, partial }) => {
      const { name, problem, fix } = describeCaughtError(failed);
      return checkFailureAlert({ stage: input.stage, check, error: name, problem, fix, partial });
    }),
    ...sweepAlerts(t, { stage: input.stage, date: input.now.toISOString().slice(0, 10), report: input.reportUri }),
  ];
  const statuses = [
    ['new', t.fresh],
    ['worse', t.worsened],
    ['open', t.ongoing],
  ] as const;
  const reported = statuses
    .flatMap(([status, found]) =>
      found.map((f): ReportedFinding => ({
        id: f.id,
        check: f.check,
        severity: f.severity,
        cluster: f.cluster,
        resource: f.resource,
        message: f.message,
        ...(f.evidence ? { evidence: f.evidence } : {}),
        fix: f.fix,
        status,
      })),
    )
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  const report: NightReport = {
    sweepId: input.sweepId,
    findings: reported,
    findingsTotal: reported.length,
    counts: { new: t.fresh.length, worse: t.worsened.length, open: t.ongoing.length, resolved: t.resolved.length },
    resolved: t.resolved.map(({ id, cluster, resource }) => ({ id, cluster, resource })),
    failedChecks,
    alerts,
    alertCount: alerts.length,
    reportKey: keys.report,
  };
  await deps.store.putJson(keys.report, report);
  await deps.store.putJson(keys.pendingMemory, t.memory);
  // The state carries the most severe findings and no alerts (PublishSweepAlerts reads them from the
  // report); the full report is in the store.
  return { ...report, findings: reported.slice(0, MAX_OUTPUT_FINDINGS), alerts: [] };
}

/** Step CommitSweep: tonight's memory becomes the memory, only once the alerts are out. */
export async function commitSweep(
  deps: { store: RunStore },
  input: { sweepId: string },
): Promise<{ remembered: number }> {
  const memory = await mustGet<AlertMemory>(deps.store, runKeys(input.sweepId).pendingMemory);
  await deps.store.putJson(MEMORY_KEY, memory);
  return { remembered: Object.keys(memory.findings).length };
}

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
