import { type CaughtError, describeCaughtError } from '../caught-error';
import type { Clock } from '../clock';
import { UpgradeStoppedError } from '../errors';
import { capped, type Notification, snsSubject } from '../notifications';
import { objectUri, type RunStore } from '../store';
import type { PlannedNode, NodeOutcome, SkippedNode, UpgradePlan, UpgradeSpec } from './state';
import { upgradeKeys } from './state';

/**
 * The one message an upgrade ends with, whatever happened: which nodes were upgraded, which were
 * skipped and why, which failed (with the command's output tail their error carries) and what
 * each left, and which the rollout never reached. Also the whole report in the run store, and
 * what GET /upgrades/{id} reads.
 */

/** Where a node stands in an upgrade. */
export type NodeState = 'upgraded' | 'skipped' | 'failed' | 'untouched' | 'unknown' | 'pending' | 'upgrading';

export interface NodeLine {
  name: string;
  nodeName?: string;
  state: NodeState;
  wave?: number;
  from?: string;
  to?: string;
  reason?: string;
  step?: string;
  detail: string;
  cordoned?: boolean;
  lockLeft?: string;
}

export type UpgradeOutcome = 'upgraded' | 'nothing-to-do' | 'stopped' | 'failed';

export interface UpgradeReport {
  upgradeId: string;
  cluster: string;
  target: string;
  outcome: UpgradeOutcome;
  counts: Record<'upgraded' | 'skipped' | 'failed' | 'untouched', number>;
  /** Every node the run upgraded, failed or never reached, and the first skipped ones. */
  nodes: NodeLine[];
  report: string;
  notification: Notification;
  /** Set when the execution is to fail: the Fail state's error and cause. */
  error?: string;
  summary?: string;
}

/**
 * The report in the state lists the first 50 skipped nodes, and each node's detail up to 500
 * characters; report.json in the run store has them all, in full. So the state after ReportUpgrade
 * stays well under Step Functions' 256 KiB even at the largest run (test/unit/upgrades/report.test.ts
 * measures it): the plan, a wave of failed nodes with their output tails, and the summary message.
 */
const SKIPPED_IN_OUTPUT = 50;
const DETAIL_IN_OUTPUT = 500;
const clip = (l: NodeLine): NodeLine =>
  l.detail.length <= DETAIL_IN_OUTPUT ? l : { ...l, detail: `${l.detail.slice(0, DETAIL_IN_OUTPUT - 3)}...` };

const skippedLine = (s: SkippedNode): NodeLine => ({
  name: s.name,
  ...(s.nodeName ? { nodeName: s.nodeName } : {}),
  state: 'skipped',
  ...(s.from ? { from: s.from } : {}),
  reason: s.reason,
  detail: s.detail,
});

const outcomeLine = (o: NodeOutcome): NodeLine => ({
  name: o.name,
  nodeName: o.nodeName,
  state: o.outcome,
  wave: o.wave,
  from: o.from,
  ...(o.to ? { to: o.to } : {}),
  ...(o.reason ? { reason: o.reason } : {}),
  ...(o.step ? { step: o.step } : {}),
  detail: o.detail,
  cordoned: o.cordoned,
  ...(o.lockLeft ? { lockLeft: o.lockLeft } : {}),
});

const plannedLine = (n: PlannedNode, state: NodeState, detail: string): NodeLine => ({
  name: n.name,
  nodeName: n.nodeName,
  state,
  wave: n.wave,
  from: n.from,
  detail,
});

/**
 * Every node's line, from the plan and the waves recorded in the run store. The first wave not
 * recorded is being upgraded while the run goes on; once it has ended, it is the wave the run
 * stopped in when `inFlight` names it (its outcomes, when the state still has them; else
 * unknown). The waves after it were never reached: pending while the run goes on, else untouched.
 */
export async function nodeLines(
  store: RunStore,
  upgradeId: string,
  plan: Pick<UpgradePlan, 'waves' | 'skipped'>,
  options: { running: boolean; inFlight?: { index: number; results?: NodeOutcome[] } },
): Promise<NodeLine[]> {
  const lines: NodeLine[] = [];
  let reached = true;
  for (const [index, wave] of plan.waves.entries()) {
    const recorded = reached ? await store.getJson<NodeOutcome[]>(upgradeKeys(upgradeId).wave(index)) : undefined;
    const results = recorded ?? (options.inFlight?.index === index ? options.inFlight.results : undefined);
    if (results) {
      lines.push(...results.map(outcomeLine));
      continue;
    }
    if (reached && (options.running || options.inFlight?.index === index)) {
      const detail = options.running
        ? 'being upgraded now'
        : 'the run stopped while it was being upgraded, before its outcome was recorded: look at it (kubectl get node; it may be cordoned, and its lock held until it goes stale)';
      lines.push(...wave.map((n) => plannedLine(n, options.running ? 'upgrading' : 'unknown', detail)));
    } else {
      const detail = options.running ? 'waits for its wave' : 'the rollout stopped before its wave';
      lines.push(...wave.map((n) => plannedLine(n, options.running ? 'pending' : 'untouched', detail)));
    }
    reached = false;
  }
  return [...lines, ...plan.skipped.map(skippedLine)];
}

/** A node's detail in the message: a failed command's output tail (20 lines of 200 characters) fits. */
const DETAIL_IN_MESSAGE = 5000;
const show = (l: NodeLine) => [
  `- ${l.name}${l.nodeName && l.nodeName !== l.name ? ` (${l.nodeName})` : ''}${l.reason ? ` [${l.reason}]` : ''}: ${
    l.detail.length <= DETAIL_IN_MESSAGE ? l.detail : `${l.detail.slice(0, DETAIL_IN_MESSAGE - 3)}...`
  }`,
];

export interface ReportInput {
  upgradeId: string;
  requester: string;
  request: UpgradeSpec;
  plan?: UpgradePlan;
  /** The wave the run was in when it stopped, if it stopped in one. */
  wave?: { index: number; results?: NodeOutcome[] };
  /** Set when a step of the run itself (not a node) failed: the Catch's error. */
  failure?: CaughtError;
}

/**
 * Builds the run's report and its one SNS message, writes report.json, and says whether the
 * execution is to fail: with the failed step's error, or {@link UpgradeStoppedError} when a node
 * failed (so the alarm on failed executions sees it too).
 */
export async function reportUpgrade(
  deps: { store: RunStore; clock: Clock; bucket?: string },
  input: ReportInput,
): Promise<UpgradeReport> {
  const { upgradeId, request, plan } = input;
  const target = request.kubernetesVersion;
  const full = plan ? ((await deps.store.getJson<UpgradePlan>(plan.key)) ?? plan) : undefined;
  const lines = full ? await nodeLines(deps.store, upgradeId, full, { running: false, inFlight: input.wave }) : [];
  const of = (state: NodeState) => lines.filter((l) => l.state === state);
  const failed = [...of('failed'), ...of('unknown')];
  const counts = {
    upgraded: of('upgraded').length,
    skipped: of('skipped').length,
    failed: failed.length,
    untouched: of('untouched').length,
  };
  const error = input.failure ? describeCaughtError(input.failure) : undefined;
  const outcome: UpgradeOutcome = error
    ? 'failed'
    : failed.length
      ? 'stopped'
      : (plan?.toUpgrade ?? 0) === 0
        ? 'nothing-to-do'
        : 'upgraded';
  const key = upgradeKeys(upgradeId).report;
  const where = objectUri(deps.bucket, key);
  const cordoned = lines.filter((l) => l.cordoned && l.nodeName);
  const locks = lines.filter((l) => l.lockLeft);
  const first = failed[0];
  const cluster = request.cluster;
  const subject = {
    failed: `[CRITICAL] ${cluster} upgrade to ${target} failed: ${error?.name}${error && plan ? ` after ${counts.upgraded} upgraded` : ''}`,
    stopped: `[CRITICAL] ${cluster} upgrade to ${target} stopped: ${first?.name} failed${first?.step ? ` at ${first.step}` : ''}`,
    'nothing-to-do': `[${counts.skipped ? 'WARNING' : 'INFO'}] ${cluster}: no node to upgrade to ${target}${counts.skipped ? `; ${counts.skipped} skipped` : ''}`,
    upgraded: `[${counts.skipped ? 'WARNING' : 'OK'}] ${cluster}: ${counts.upgraded} node(s) upgraded to ${target}${counts.skipped ? `; ${counts.skipped} skipped` : ''}`,
  }[outcome];
  const section = (title: string, items: NodeLine[]) =>
    items.length ? ['', `${title} (${items.length}):`, ...capped(items, show, where)] : [];
  const message = [
    `Upgrade ${upgradeId} of cluster ${cluster} to Kubernetes ${target}${full ? ` (control plane ${full.controlPlaneVersion})` : ''}, requested by ${input.requester}, at most ${request.maxUnavailable} node(s) at a time.`,
    ...(error
      ? [
          '',
          `The run failed: ${error.name}: ${error.problem}`,
          ...(error.fix ? [`Fix: ${error.fix}`] : []),
          plan ? 'The nodes below are as the run left them.' : 'Nothing was planned; no node was touched.',
        ]
      : []),
    ...(outcome === 'stopped'
      ? ['', 'The rollout stopped at the first failure: the nodes after it were not touched.']
      : []),
    ...section('Failed', failed),
    ...section('Upgraded', of('upgraded')),
    ...section('Untouched', of('untouched')),
    ...section('Skipped', of('skipped')),
    ...(cordoned.length
      ? [
          '',
          `Left cordoned: ${cordoned.map((l) => l.nodeName).join(', ')}. Once each is fixed: kubectl uncordon <node>.`,
        ]
      : []),
    ...(locks.length
      ? [
          '',
          `Locks left (they go stale by themselves): ${locks.map((l) => `aws ssm delete-parameter --name ${l.lockLeft}`).join('; ')}`,
        ]
      : []),
    ...(outcome === 'nothing-to-do' && !error
      ? ['', `No node needed upgrading${full?.atTarget ? ` (${full.atTarget} already at ${target} or newer)` : ''}.`]
      : []),
    '',
    `Report: ${where}`,
  ].join('\n');
  const severity = outcome === 'failed' || outcome === 'stopped' ? 'critical' : counts.skipped ? 'warning' : 'info';
  const notification: Notification = { subject: snsSubject(subject), message, severity, cluster, check: 'upgrade' };
  const summaryText = error
    ? `Upgrade ${upgradeId} failed with ${error.name}: ${error.problem}`
    : `Upgrade ${upgradeId} stopped: ${failed.map((l) => `${l.name} (${l.step ?? 'unknown step'})`).join(', ')} failed; ${counts.upgraded} upgraded, ${counts.untouched} untouched.`;
  const report: UpgradeReport = {
    upgradeId,
    cluster,
    target,
    outcome,
    counts,
    nodes: lines,
    report: where,
    notification,
    ...(error ? { error: error.name } : outcome === 'stopped' ? { error: UpgradeStoppedError.errorName } : {}),
    ...(outcome === 'failed' || outcome === 'stopped' ? { summary: summaryText } : {}),
  };
  await deps.store.putJson(key, { ...report, reportedAt: deps.clock.now().toISOString() });
  const skipped = of('skipped');
  const inState = [...lines.filter((l) => l.state !== 'skipped'), ...skipped.slice(0, SKIPPED_IN_OUTPUT)];
  return { ...report, nodes: inState.map(clip) };
}
