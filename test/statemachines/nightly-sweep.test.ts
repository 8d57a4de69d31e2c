import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { prepareAndRun } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { main } from '#cli/main';
import { nightlySweep, type SweepOutput } from '#cli/workflows/nightly-sweep';
import { reconcileNetwork } from '#cli/workflows/reconcile-network';
import { openSandbox } from '#lib/sandbox/index';
import { DEFAULT_SEED, type SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import type { EstateSeed } from '#lib/sandbox/seed';
import type { AlertMemory } from '#lib/sweep/findings';
import { MEMORY_KEY } from '#lib/sweep/store';
import { freezeTimeAt } from '../helpers/frozen-time';

/**
 * The real statemachines/nightly-sweep.asl.json on the sandbox estate: a night with findings, a
 * clean night, a repeated night (no repeat page), a worse and a resolved finding, a check that
 * fails while the others report, and a sweep that fails outright.
 */

// Mid-month: on a month's first day there is no month-to-date spend to ask Cost Explorer for
// (its End is exclusive and must follow Start), so the night's cost questions differ.
freezeTimeAt(new Date('2026-11-16T18:00:00Z'));

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-sweep-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const EVENT = JSON.stringify({ trigger: 'manual' });

async function sweep(arrange?: (estate: SandboxEstate) => void, scenario?: string) {
  const local = localRuntime('sandbox', home, {}, scenario ? { scenario } : {});
  const estate = local.estate as SandboxEstate;
  arrange?.(estate);
  const sent = estate.outbox.length;
  const first = estate.calls.length;
  const { result } = await prepareAndRun(nightlySweep, local, EVENT);
  return {
    result,
    night: result.output as SweepOutput,
    estate,
    alerts: estate.outbox.slice(sent),
    calls: estate.calls.slice(first),
  };
}

/** Reseeds the estate under `home` from the default seed, changed by `edit`. */
function seedWith(edit: (seed: EstateSeed) => void): void {
  const seed = parse(readFileSync(DEFAULT_SEED, 'utf8')) as EstateSeed;
  edit(seed);
  const file = join(home, 'seed.yaml');
  writeFileSync(file, stringify(seed));
  openSandbox(home, { reset: true, seedFile: file });
}

const memoryOf = (estate: SandboxEstate) =>
  JSON.parse(estate.state.objects[sandboxStoreBucket(estate.seed.account)]?.[MEMORY_KEY] ?? 'null') as AlertMemory;

const TRUNK = ['SweepInventory', 'Checks', 'MergeSweep', 'PublishSweepAlerts', 'CommitSweep', 'Done'];
const BRANCHES = ['SweepCost', 'SweepCompliance', 'ProbeBatches', 'ProbeBatch', 'CheckSweepDns', 'ConnectivityDone'];

const SEEDED_FINDINGS = [
  'compliance:activation-expired-unused:0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b',
  'compliance:nfs-open:sg-0e5f0a1b2c3d40718:sgr-0bbbb0000000000b2',
  'compliance:unsupported-os:mi-0a2b4c6d8e0f12344',
  'connectivity:dns:192.168.1.54:53',
  'connectivity:dns:gpu-hybrid-cluster:aws-to-on-prem:harbor.company.local',
  'connectivity:kubelet:192.168.10.33:10250',
  'cost:budget:Amazon Elastic Container Service for Kubernetes',
  'cost:not-ready:mi-0a2b4c6d8e0f12343',
];

describe('nightly-sweep on the sandbox estate', () => {
  it('a night with findings: every check reports, one message per cluster and check, and the memory is kept', async () => {
    const { result, night, alerts, estate } = await sweep();

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.filter((s) => TRUNK.includes(s))).toEqual(TRUNK);
    expect(result.visited.filter((s) => BRANCHES.includes(s)).sort()).toEqual([...BRANCHES].sort());
    expect(night.findings.map((f) => f.id).sort()).toEqual(SEEDED_FINDINGS);
    expect(night.counts).toEqual({ new: 8, worse: 0, open: 0, resolved: 0 });
    for (const f of night.findings) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['check', 'severity', 'resource', 'message', 'fix']));
      expect(f.status).toBe('new');
    }
    // NotReady and still billing: 224 vCPU x 0.1099 x 24 h.
    expect(night.findings.find((f) => f.id.startsWith('cost:not-ready'))?.message).toContain('590.82 USD per day');
    expect(night.findings.find((f) => f.id === 'connectivity:dns:192.168.1.54:53')).toMatchObject({
      severity: 'warning',
      message: expect.stringContaining('warning on jitter'),
    });

    expect(alerts.map((a) => [a.subject, a.attributes])).toEqual([
      [
        '[CRITICAL] gpu-hybrid-cluster compliance: 3 new (nightly sweep)',
        { severity: 'critical', cluster: 'gpu-hybrid-cluster', check: 'compliance' },
      ],
      [
        '[CRITICAL] gpu-hybrid-cluster connectivity: 3 new (nightly sweep)',
        { severity: 'critical', cluster: 'gpu-hybrid-cluster', check: 'connectivity' },
      ],
      [
        '[WARNING] account 111122223333 cost: 1 new (nightly sweep)',
        { severity: 'warning', cluster: 'account 111122223333', check: 'cost' },
      ],
      [
        '[WARNING] gpu-hybrid-cluster cost: 1 new (nightly sweep)',
        { severity: 'warning', cluster: 'gpu-hybrid-cluster', check: 'cost' },
      ],
    ]);
    expect(night.alerts.map((a) => a.messageId)).toEqual(alerts.map((a) => a.messageId));
    expect(alerts[0]?.message).toContain('Fix: Delete it (aws ssm delete-activation');
    expect(readdirSync(join(home, 'outbox'))).toHaveLength(4);
    expect(Object.keys(memoryOf(estate).findings).sort()).toEqual(SEEDED_FINDINGS);
    // Four Cost Explorer requests (USD 0.01 each): the SERVICE and USAGE_TYPE names, the month to
    // date, and the forecast; the budget finding says which names matched and what it cost.
    const ce = estate.calls.filter((c) => c.service === 'ce').map((c) => c.command);
    expect(ce).toEqual(['GetDimensionValues', 'GetDimensionValues', 'GetCostAndUsage', 'GetCostForecast']);
    expect(night.findings.find((f) => f.id.startsWith('cost:budget:'))?.evidence).toContain(
      'Cost Explorer SERVICE "Amazon Elastic Container Service for Kubernetes" (discovered among 1 service); hybrid usage type(s) "APN2-HybridNodes-vCPU-Hours" (discovered among 2 usage types); 4 Cost Explorer requests (0.04 USD, 2 of them GetDimensionValues).',
    );
  });

  it('scenario gpu-lost: a critical finding for gpu-node-12, its GPU lost and its cost a day, in the compliance alert', async () => {
    const { result, night, alerts } = await sweep(undefined, 'gpu-lost');

    expect(result.status).toBe('SUCCEEDED');
    expect(night.findings.map((f) => f.id).sort()).toEqual(
      [...SEEDED_FINDINGS, 'compliance:gpu-lost:mi-0a2b4c6d8e0f12342'].sort(),
    );
    expect(night.findings.find((f) => f.id === 'compliance:gpu-lost:mi-0a2b4c6d8e0f12342')).toMatchObject({
      severity: 'critical',
      message:
        'Node mi-0a2b4c6d8e0f12342 (gpu-node-12) has 7 of its 8 GPUs allocatable: 1 GPU lost, while the node bills 590.82 USD per day.',
    });
    const compliance = alerts.find((a) => a.subject?.startsWith('[CRITICAL] gpu-hybrid-cluster compliance'));
    expect(compliance?.subject).toBe('[CRITICAL] gpu-hybrid-cluster compliance: 4 new (nightly sweep)');
    expect(compliance?.message).toContain('Xid');
  });

  it("scenario ssm-near-limit: a warning for the account at 908 of the standard tier's 1,000, with the fix", async () => {
    const { result, night, alerts, calls } = await sweep(undefined, 'ssm-near-limit');

    expect(result.status).toBe('SUCCEEDED');
    const id = 'compliance:ssm-standard-tier:account 111122223333';
    expect(night.findings.map((f) => f.id).sort()).toEqual([...SEEDED_FINDINGS, id].sort());
    expect(night.findings.find((f) => f.id === id)).toMatchObject({
      severity: 'warning',
      message: expect.stringContaining('908 of the 1,000 on-prem managed instances'),
    });
    const account = alerts.find(
      (a) => a.attributes.cluster === 'account 111122223333' && a.attributes.check === 'compliance',
    );
    expect(account?.subject).toBe('[WARNING] account 111122223333 compliance: 1 new (nightly sweep)');
    expect(account?.message).toContain(
      'aws ssm update-service-setting --setting-id arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier --setting-value advanced',
    );
    // The other team's 905 are nobody's Nodes here: the cluster's inventory still has its three.
    expect(night.findings.filter((f) => f.id.startsWith('compliance:orphan'))).toEqual([]);
    // One GetServiceSetting a night; the instances are the list the inventory reads anyway (19 pages of 50).
    expect(calls.filter((c) => c.command === 'GetServiceSetting')).toHaveLength(1);
  });

  it('finds EKS among the services Cost Explorer lists, page by page, and counts every page', async () => {
    seedWith((seed) => {
      seed.costExplorer!.dimensionValuesPageSize = 1;
      seed.costExplorer!.otherUsage.push(
        // S3's SERVICE value and Standard storage usage type in Seoul: S3 user guide, "Understanding
        // your AWS billing and usage reports for Amazon S3".
        { service: 'Amazon Simple Storage Service', usageType: 'APN2-TimedStorage-ByteHrs', usdPerDay: 0.24 },
      );
    });

    const { night, calls } = await sweep();

    const asked = calls.filter((c) => c.service === 'ce').map((c) => c.command);
    expect(asked).toEqual([...Array(4).fill('GetDimensionValues'), 'GetCostAndUsage', 'GetCostForecast']);
    // The forecast is still EKS's alone: S3 is not counted against the budget.
    expect(night.findings.find((f) => f.id.startsWith('cost:budget:'))).toMatchObject({
      id: 'cost:budget:Amazon Elastic Container Service for Kubernetes',
      evidence: expect.stringContaining(
        '(discovered among 2 services); hybrid usage type(s) "APN2-HybridNodes-vCPU-Hours" (discovered among 2 usage types); 6 Cost Explorer requests (0.06 USD, 4 of them GetDimensionValues).',
      ),
    });
  });

  it('a repeated night pages nothing: one info digest line per open finding', async () => {
    await sweep();
    const { night, alerts } = await sweep();

    expect(night.counts).toEqual({ new: 0, worse: 0, open: 8, resolved: 0 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe('[INFO] sandbox nightly digest: 8 still open');
    // Cost Explorer's findings are about the account, the others about the cluster: both in one digest.
    expect(alerts[0]?.attributes).toEqual({ severity: 'info', cluster: 'all', check: 'all' });
    expect(alerts[0]?.message.match(/^- \[(warning|critical)\]/gm)).toHaveLength(8);
  });

  it('pages a finding that got worse, and says once what resolved', async () => {
    await sweep();
    const { night, alerts, estate } = await sweep((e) => {
      // The jittery DNS link degrades further; the unused activation is deleted; gpu-node-13 comes back.
      const link = e.state.seed.onPrem.links.find((l) => l.host === '192.168.1.54');
      if (link) link.jitterMs = 8;
      delete e.state.activations['0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b'];
      const node = e.state.nodes['mi-0a2b4c6d8e0f12343'];
      if (node) node.ready = { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
      e.state.seed.onPrem.links.push({ host: '192.168.10.33', latencyMs: 1.9, jitterMs: 0.2, lossPercent: 0 });
      e.save();
    });

    expect(night.counts).toEqual({ new: 0, worse: 1, open: 4, resolved: 3 });
    expect(night.resolved.map((r) => r.id).sort()).toEqual([
      'compliance:activation-expired-unused:0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b',
      'connectivity:kubelet:192.168.10.33:10250',
      'cost:not-ready:mi-0a2b4c6d8e0f12343',
    ]);
    const worse = alerts.find((a) => a.attributes.severity === 'critical');
    expect(worse?.subject).toBe(
      '[CRITICAL] gpu-hybrid-cluster connectivity: 1 worse, 1 still open, 1 resolved (nightly sweep)',
    );
    expect(worse?.message).toContain('Worse than before:\n- [critical] DNS server for company.local (192.168.1.54:53)');
    const digest = alerts.find((a) => a.attributes.check === 'all');
    expect(digest?.message).toContain('- resolved: mi-0a2b4c6d8e0f12343 (was warning)');
    expect(Object.keys(memoryOf(estate).findings)).toHaveLength(5);

    // The next night the resolved ones are not mentioned again.
    const third = await sweep();
    expect(third.night.counts.resolved).toBe(0);
    expect(third.alerts.map((a) => a.subject)).toEqual(['[INFO] sandbox nightly digest: 5 still open']);
  });

  it('a clean night finds nothing and sends nothing', async () => {
    seedWith((seed) => {
      seed.fleet = seed.fleet.slice(0, 1);
      seed.activations = [];
      for (const link of seed.onPrem.links) link.jitterMs = 0.3;
    });
    // The network as declared (the reconciler removes the seed's drift), then the night.
    const local = localRuntime('sandbox', home, {});
    const applied = await prepareAndRun(reconcileNetwork, local, JSON.stringify({ mode: 'apply' }));
    expect(applied.result.status).toBe('SUCCEEDED');

    const { result, night, alerts } = await sweep();

    expect(result.status).toBe('SUCCEEDED');
    expect(night.findings).toEqual([]);
    expect(night.inventory.clusters).toEqual([{ name: 'gpu-hybrid-cluster', nodes: 1, notReady: 0, cordoned: 0 }]);
    expect(alerts).toEqual([]);
    expect(night.alerts).toEqual([]);
  });

  it('a check that fails is an alert; the others still report and its findings stay open', async () => {
    await sweep();
    const { result, night, alerts, estate } = await sweep((e) =>
      e.injectFault({
        on: 'ce:GetCostAndUsage',
        effect: 'error',
        error: 'AccessDeniedException',
        message: 'not authorized to perform ce:GetCostAndUsage',
      }),
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toContain('CostFailed');
    expect(night.failedChecks).toEqual(['cost']);
    expect(alerts[0]).toMatchObject({
      subject: '[CRITICAL] nightly cost check failed: AccessDeniedException',
      attributes: { severity: 'critical', cluster: 'all', check: 'cost' },
    });
    expect(alerts[0]?.message).toContain('not authorized to perform ce:GetCostAndUsage');
    // Tonight nothing about cost is known: last night's cost findings are neither resolved nor re-paged.
    expect(night.counts).toEqual({ new: 0, worse: 0, open: 6, resolved: 0 });
    expect(Object.keys(memoryOf(estate).findings).sort()).toEqual(SEEDED_FINDINGS);
  });

  it('retries a throttled Cost Explorer and carries on', async () => {
    const { result, night } = await sweep((e) =>
      e.injectFault({ on: 'ce:GetCostForecast', effect: 'error', error: 'LimitExceededException', times: 2 }),
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(night.failedChecks).toEqual([]);
    expect(night.findings.map((f) => f.id)).toContain('cost:budget:Amazon Elastic Container Service for Kubernetes');
  });

  it('a sweep that fails outright alerts, fails, and leaves the memory as it was', async () => {
    await sweep();
    const { estate: before } = await sweep();
    const memory = memoryOf(before);
    const { result, alerts, estate } = await sweep((e) =>
      e.injectFault({
        on: 'ssm:DescribeInstanceInformation',
        effect: 'error',
        error: 'AccessDeniedException',
        message: 'not authorized',
      }),
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AccessDeniedException');
    expect(result.visited).toEqual(['SweepInventory', 'ReportSweepFailure', 'AlertFailure', 'Failed']);
    expect(alerts.map((a) => [a.subject, a.attributes])).toEqual([
      [
        '[CRITICAL] nightly sweep failed: AccessDeniedException',
        { severity: 'critical', cluster: 'all', check: 'sweep' },
      ],
    ]);
    expect(alerts[0]?.message).toContain('no finding was updated or resolved');
    expect(memoryOf(estate)).toEqual(memory);
  });

  it('never carries an activation code: the seeded code is nowhere in history, output or messages', async () => {
    const { result, estate, alerts } = await sweep();
    const code = Object.values(estate.state.activations)[0]?.code;
    expect(code).toMatch(/^seeded-/);
    const seen = JSON.stringify([result.history, result.output, alerts]);
    expect(seen).not.toContain(code);
  });

  it('hybridops run nightly-sweep --json prints the findings and the alerts sent', async () => {
    const input = join(home, 'night.json');
    writeFileSync(input, EVENT);
    const out: string[] = [];
    const code = await main(
      ['run', 'nightly-sweep', '--input', input, '--json'],
      { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => undefined } },
      { HYBRIDOPS_HOME: home },
    );
    expect(code).toBe(0);
    const printed = JSON.parse(out.join('')) as { status: string; output: SweepOutput };
    expect(printed.status).toBe('SUCCEEDED');
    expect(printed.output.findings).toHaveLength(8);
    expect(printed.output.findings[0]).toEqual({
      id: 'compliance:nfs-open:sg-0e5f0a1b2c3d40718:sgr-0bbbb0000000000b2',
      check: 'compliance',
      severity: 'critical',
      cluster: 'gpu-hybrid-cluster',
      resource: 'sg-0e5f0a1b2c3d40718/sgr-0bbbb0000000000b2',
      message:
        'sgr-0bbbb0000000000b2 lets 0.0.0.0/0 reach NFS on the EFS mount targets; allowed: 10.0.0.0/16, 192.168.0.0/16, 10.244.0.0/16.',
      fix: 'Run the network reconciler in apply mode (POST /reconcile {"mode": "apply"}), or revoke the rule.',
      status: 'new',
    });
    expect(printed.output.alerts.map((a) => a.check)).toEqual(['compliance', 'connectivity', 'cost', 'cost']);
  });

  it('rejects a bad input and starts nothing', async () => {
    const input = join(home, 'bad.json');
    writeFileSync(input, JSON.stringify({ trigger: 'a b', mode: 'apply' }));
    const err: string[] = [];
    const code = await main(
      ['run', 'nightly-sweep', '--input', input],
      { stdout: { write: () => undefined }, stderr: { write: (t: string) => err.push(t) } },
      { HYBRIDOPS_HOME: home },
    );
    expect(code).toBe(2);
    expect(err.join('')).toContain('trigger must be a word');
    expect(err.join('')).toContain("unknown field 'mode'");
    expect(openSandbox(home).calls).toEqual([]);
  });
});
