import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  GetDimensionValuesCommand,
} from '@aws-sdk/client-cost-explorer';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsTransientError, StoreError } from '#lib/errors';
import type { Prober } from '#lib/net/probe';
import { validateDesiredState } from '#lib/desired-state/schema';
import { dnsCheckDesiredState } from '#test/helpers/network-fixtures';
import { DEFAULT_SWEEP_CONFIG } from '#lib/sweep/config';
import { type AlertMemory, emptyMemory, type SweepFinding } from '#lib/sweep/findings';
import type { ClusterInventory } from '#lib/sweep/inventory';
import { checkSweepDns } from '#lib/sweep/check-sweep-dns';
import { commitSweep } from '#lib/sweep/commit-sweep';
import { MAX_OUTPUT_FINDINGS, mergeSweep, type NightReport } from '#lib/sweep/merge-sweep';
import { probeBatch } from '#lib/sweep/probe-batch';
import { failedSweepStep, reportSweepFailure } from '#lib/sweep/report-sweep-failure';
import type { CheckOutcome } from '#lib/sweep/state';
import { sweepCompliance } from '#lib/sweep/sweep-compliance';
import { idleNodes, sweepCost } from '#lib/sweep/sweep-cost';
import type { NightInventory } from '#lib/sweep/sweep-inventory';
import { newRunId, RUN_ID } from '#lib/run-id';
import { COST_NAMES_KEY, MEMORY_KEY, runKeys } from '#lib/sweep/store';
import { memoryStore } from '#test/helpers/memory-store';
import { publishSweepAlerts } from '#lib/sweep/publish-sweep-alerts';

const ID = '20261122T180000Z-a1b2c3';
const KEYS = runKeys(ID);
const NOW = new Date('2026-11-22T18:00:00Z');
const ARN = 'arn:aws:eks:ap-northeast-2:111122223333:cluster/gpu-hybrid-cluster';
const EKS_NAME = 'Amazon Elastic Container Service for Kubernetes';

const finding = (id: string, severity: SweepFinding['severity'] = 'warning'): SweepFinding => ({
  id,
  check: id.split(':')[0] as SweepFinding['check'],
  severity,
  cluster: 'gpu-hybrid-cluster',
  resource: id.split(':').pop() ?? id,
  message: `${id} is wrong.`,
  fix: `Fix ${id}.`,
});

function cluster(nodes: ClusterInventory['nodes'], extra: Partial<ClusterInventory> = {}): ClusterInventory {
  return {
    name: 'gpu-hybrid-cluster',
    facts: {
      name: 'gpu-hybrid-cluster',
      arn: ARN,
      vpcCidrs: ['10.0.0.0/16'],
      serviceCidr: '10.96.0.0/16',
      remoteNodeCidrs: ['192.168.0.0/16'],
      remotePodCidrs: ['10.244.0.0/16'],
    },
    nodes,
    instances: nodes.map((n) => ({
      instanceId: n.name,
      platformName: 'Ubuntu',
      platformVersion: '22.04',
      pingStatus: 'Online',
      ours: true,
    })),
    activations: [],
    insights: [],
    ...extra,
  };
}

function night(clusters: ClusterInventory[]): NightInventory {
  const desired = validateDesiredState({ version: 1, clusters: [{ name: 'gpu-hybrid-cluster' }] });
  if (!desired.ok) throw new Error(desired.problems.join('; '));
  return {
    sweepId: ID,
    config: DEFAULT_SWEEP_CONFIG,
    desired: desired.state,
    inventory: { takenAt: NOW.toISOString(), clusters, targets: [], pages: {} },
  };
}

const node = (name: string, ready = true, vcpus = 224) => ({
  name,
  internalIps: ['192.168.10.21'],
  vcpus,
  ready,
  ...(ready ? {} : { reason: 'NodeStatusUnknown', since: '2026-11-21T12:00:00Z' }),
});

describe('newRunId', () => {
  it('is the start in UTC and a random suffix, in the form the steps accept', () => {
    const id = newRunId(NOW);
    expect(id).toMatch(/^20261122T180000Z-[0-9a-f]{6}$/);
    expect(id).toMatch(RUN_ID);
  });
});

describe('idleNodes', () => {
  it('lists NotReady Nodes and Ready ones whose SSM agent lost its connection, with their vCPUs', () => {
    const c = cluster([node('mi-1'), node('mi-2', false), node('mi-3', true, 64)]);
    const lost = c.instances.find((i) => i.instanceId === 'mi-3');
    if (lost) lost.pingStatus = 'ConnectionLost';
    expect(idleNodes(c)).toEqual([
      { name: 'mi-2', vcpus: 224, since: '2026-11-21T12:00:00Z', reason: 'NotReady (NodeStatusUnknown)' },
      { name: 'mi-3', vcpus: 64, reason: 'Ready but its SSM agent is ConnectionLost' },
    ]);
  });
});

describe('sweepCost', () => {
  const ce = mockClient(CostExplorerClient);
  beforeEach(() => ce.reset());

  it('turns Cost Explorer throttling (LimitExceededException) into the retried AwsTransientError', async () => {
    const { store } = memoryStore({ [KEYS.inventory]: night([cluster([node('mi-1')])]) });
    ce.on(GetDimensionValuesCommand).resolves({ DimensionValues: [{ Value: EKS_NAME }], ReturnSize: 1, TotalSize: 1 });
    ce.on(GetCostAndUsageCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' }),
    );
    const client = new CostExplorerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await expect(sweepCost({ ce: client, store }, { sweepId: ID, now: NOW })).rejects.toBeInstanceOf(AwsTransientError);
  });

  it('asks Cost Explorer about the names the config pins, and reports the names, requests and budget', async () => {
    const pinned = night([cluster([node('mi-1')])]);
    pinned.config = {
      ...pinned.config,
      costService: EKS_NAME,
      hybridUsageTypes: ['APN2-Hybrid-vCPU'],
      monthlyBudgetUsd: 500,
    };
    const { store } = memoryStore({ [KEYS.inventory]: pinned });
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
    ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '10', Unit: 'USD' } });
    const client = new CostExplorerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });

    const part = await sweepCost({ ce: client, store }, { sweepId: ID, now: NOW });

    expect(ce).not.toHaveReceivedCommand(GetDimensionValuesCommand);
    expect(ce.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input.Filter).toEqual({
      Dimensions: { Key: 'SERVICE', Values: [EKS_NAME] },
    });
    expect(part.summary).toMatchObject({
      costService: [EKS_NAME],
      usageTypes: ['APN2-Hybrid-vCPU'],
      namesFrom: { service: 'config', usageTypes: 'config' },
      costExplorerRequests: 2,
      dimensionValuesRequests: 0,
      budgetUsd: 500,
    });
  });

  it("keeps the names the first night discovers, so the month's other nights ask Cost Explorer twice, not four times", async () => {
    const HYBRID = 'APN2-EKS:HybridNodes-vCPU-Hours';
    const { store, read } = memoryStore({ [KEYS.inventory]: night([cluster([node('mi-1')])]) });
    ce.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves({
      DimensionValues: [{ Value: EKS_NAME }, { Value: 'AWS Lambda' }],
    });
    ce.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves({ DimensionValues: [{ Value: HYBRID }] });
    ce.on(GetCostAndUsageCommand).resolves({
      ResultsByTime: [{ Groups: [{ Keys: [HYBRID], Metrics: { UnblendedCost: { Amount: '1', Unit: 'USD' } } }] }],
    });
    ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '10', Unit: 'USD' } });
    const client = new CostExplorerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });

    const first = await sweepCost({ ce: client, store }, { sweepId: ID, now: NOW });
    const firstCalls = ce.calls().length;
    const second = await sweepCost({ ce: client, store }, { sweepId: ID, now: new Date('2026-11-23T18:00:00Z') });

    expect(firstCalls).toBe(4);
    expect(first.summary).toMatchObject({
      costExplorerRequests: 4,
      dimensionValuesRequests: 2,
      namesDiscoveredOn: null,
    });
    expect(read(COST_NAMES_KEY)).toEqual({
      month: '2026-11',
      discoveredOn: '2026-11-22',
      services: [EKS_NAME],
      usageTypes: [HYBRID],
      listedServices: ['AWS Lambda', EKS_NAME],
      listedUsageTypes: [HYBRID],
    });
    expect(
      ce
        .calls()
        .slice(firstCalls)
        .map((c) => c.args[0].constructor.name),
    ).toEqual(['GetCostAndUsageCommand', 'GetCostForecastCommand']);
    expect(second.summary).toMatchObject({
      costService: [EKS_NAME],
      usageTypes: [HYBRID],
      costExplorerRequests: 2,
      dimensionValuesRequests: 0,
      namesDiscoveredOn: '2026-11-22',
    });
  });

  it('discovers again, and replaces it, when the kept object is not what it keeps', async () => {
    const { store, read } = memoryStore({
      [KEYS.inventory]: night([cluster([node('mi-1')])]),
      [COST_NAMES_KEY]: { month: '2026-11', services: 'not a list' },
    });
    ce.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves({ DimensionValues: [{ Value: EKS_NAME }] });
    ce.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves({
      DimensionValues: [{ Value: 'Hybrid-vCPU' }],
    });
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
    ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '10', Unit: 'USD' } });
    const client = new CostExplorerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });

    const part = await sweepCost({ ce: client, store }, { sweepId: ID, now: NOW });

    expect(part.summary).toMatchObject({ costExplorerRequests: 4, dimensionValuesRequests: 2 });
    expect(read(COST_NAMES_KEY)).toMatchObject({ month: '2026-11', services: [EKS_NAME], usageTypes: ['Hybrid-vCPU'] });
  });

  it('refuses a night whose inventory is missing, naming the object', async () => {
    const client = new CostExplorerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await expect(sweepCost({ ce: client, store: memoryStore().store }, { sweepId: ID, now: NOW })).rejects.toThrow(
      `The run store object ${KEYS.inventory} is missing.`,
    );
    expect(ce.calls()).toHaveLength(0);
  });
});

describe('sweepCompliance', () => {
  it('makes a cluster that could not be read a critical finding, and writes what it found', async () => {
    const unreadable: ClusterInventory = {
      name: 'gone',
      problem: { error: 'ClusterNotFoundError', message: "EKS cluster 'gone' does not exist.", fix: 'Check it.' },
      nodes: [],
      instances: [],
      activations: [],
      insights: [],
    };
    const { store, read } = memoryStore({ [KEYS.inventory]: night([cluster([node('mi-1')]), unreadable]) });
    const part = await sweepCompliance({ store }, { sweepId: ID, now: NOW });
    expect(part).toEqual({ key: KEYS.findings('compliance'), findings: 1 });
    expect(read<SweepFinding[]>(part.key)).toEqual([
      expect.objectContaining({
        id: 'compliance:cluster-unreadable:gone',
        severity: 'critical',
        message: "Cluster gone could not be swept: EKS cluster 'gone' does not exist.",
        fix: 'Check it.',
      }),
    ]);
  });
});

describe('probeBatch', () => {
  const batch = KEYS.batch(0);
  const targets = [
    { cluster: 'gpu-hybrid-cluster', kind: 'kubelet', host: '192.168.10.21', port: 10250, name: 'mi-1' },
    { cluster: 'gpu-hybrid-cluster', kind: 'dns', host: '192.168.1.54', port: 53, name: 'DNS server' },
  ];
  const probe = { samples: 4, intervalMs: 0, timeoutMs: 100 };

  it('probes each target with the batch settings and reports only the paths off target', async () => {
    const { store, read } = memoryStore({ [batch]: { targets, probe } });
    const asked: Array<[string, number, unknown]> = [];
    const prober: Prober = {
      tcpConnectSamples: async (host, port, options) => {
        asked.push([host, port, options]);
        const ms = host === '192.168.1.54' ? [1, 9, 1, 9] : [2, 2, 2, 2];
        return ms.map((m) => ({ ok: true, ms: m }));
      },
    };
    const part = await probeBatch({ prober, store }, { sweepId: ID, batch, enabled: true });
    expect(asked.sort()).toEqual([
      ['192.168.1.54', 53, probe],
      ['192.168.10.21', 10250, probe],
    ]);
    expect(part.summary).toEqual({ probed: 2, samples: 4, target: 1, warning: 0, critical: 1 });
    const found = read<SweepFinding[]>(part.key);
    expect(found.map((f) => [f.id, f.severity])).toEqual([['connectivity:dns:192.168.1.54:53', 'critical']]);
    expect(found[0]?.evidence).toContain('jitter 8.00 ms (critical)');
  });

  it('probes nothing outside the cluster VPC, and says so once per cluster', async () => {
    const { store, read } = memoryStore({ [batch]: { targets, probe } });
    const prober: Prober = { tcpConnectSamples: () => Promise.reject(new Error('must not probe')) };
    const part = await probeBatch({ prober, store }, { sweepId: ID, batch, enabled: false });
    expect(read<SweepFinding[]>(part.key)).toEqual([
      expect.objectContaining({ id: 'connectivity:probes-off:gpu-hybrid-cluster', severity: 'info' }),
    ]);
    expect(read<SweepFinding[]>(part.key)[0]?.message).toContain('2 on-prem paths were not probed');
  });
});

describe('checkSweepDns', () => {
  it('checks nothing outside the cluster VPC, and says so for each cluster that declares checks', async () => {
    const desired = validateDesiredState(dnsCheckDesiredState());
    if (!desired.ok) throw new Error(desired.problems.join('; '));
    const { store, read } = memoryStore({ [KEYS.inventory]: { ...night([]), desired: desired.state } });
    const dns = { lookup: () => Promise.reject(new Error('must not resolve')) };
    const part = await checkSweepDns({ dns, resolver: {} as never, store } as never, { sweepId: ID, enabled: false });
    expect(read<SweepFinding[]>(part.key).map((f) => [f.id, f.severity])).toEqual([
      ['connectivity:dns-checks-off:gpu-hybrid-cluster', 'info'],
    ]);
  });
});

describe('mergeSweep', () => {
  const part = (name: string, findings: SweepFinding[]) => ({ key: KEYS.findings(name), findings: findings.length });

  async function merge(outcomes: CheckOutcome[], objects: Record<string, unknown>, memory?: AlertMemory) {
    const m = memoryStore({ ...objects, ...(memory ? { [MEMORY_KEY]: memory } : {}) });
    const state = await mergeSweep({ store: m.store }, { sweepId: ID, stage: 'dev', now: NOW, outcomes });
    return { state, report: m.read<NightReport>(KEYS.report), pending: m.read<AlertMemory>(KEYS.pendingMemory), m };
  }

  it('writes the full report and the pending memory, leaves the memory itself alone, and keeps the state small', async () => {
    const many = Array.from({ length: MAX_OUTPUT_FINDINGS + 5 }, (_, i) => finding(`compliance:x:${i}`));
    const { state, report, pending, m } = await merge([{ check: 'compliance', parts: [part('compliance', many)] }], {
      [KEYS.findings('compliance')]: many,
    });
    expect(state.findings).toHaveLength(MAX_OUTPUT_FINDINGS);
    expect(state.findingsTotal).toBe(MAX_OUTPUT_FINDINGS + 5);
    expect(state.alerts).toEqual([]); // the messages are in the report, published from there
    expect(report.findings).toHaveLength(MAX_OUTPUT_FINDINGS + 5);
    expect(report.alerts.map((a) => a.subject)).toEqual([
      '[WARNING] gpu-hybrid-cluster compliance: 55 new (nightly sweep)',
    ]);
    expect(Object.keys(pending.findings)).toHaveLength(MAX_OUTPUT_FINDINGS + 5);
    expect(m.objects.has(MEMORY_KEY)).toBe(false);
  });

  it('lists the most severe findings first', async () => {
    const found = [finding('cost:a'), finding('cost:b', 'critical'), finding('cost:c', 'info')];
    const { state } = await merge([{ check: 'cost', parts: [part('cost', found)] }], {
      [KEYS.findings('cost')]: found,
    });
    expect(state.findings.map((f) => [f.id, f.status])).toEqual([
      ['cost:b', 'new'],
      ['cost:a', 'new'],
      ['cost:c', 'new'],
    ]);
  });

  it('keeps the findings of a check that failed open instead of resolving them, and alerts on the failure', async () => {
    const memory: AlertMemory = emptyMemory();
    for (const id of ['cost:not-ready:mi-1', 'compliance:unsupported-os:mi-2']) {
      memory.findings[id] = {
        severity: 'warning',
        cluster: 'gpu-hybrid-cluster',
        resource: id,
        firstSeen: '2026-11-21T18:00:00Z',
        lastAlerted: '2026-11-21T18:00:00Z',
      };
    }
    const failed = { Error: 'AccessDeniedException', Cause: JSON.stringify({ errorMessage: 'not allowed' }) };
    const { state, report, pending } = await merge(
      [
        { check: 'cost', parts: [], failed },
        { check: 'compliance', parts: [part('compliance', [])] },
      ],
      { [KEYS.findings('compliance')]: [] },
      memory,
    );
    expect(state.failedChecks).toEqual(['cost']);
    expect(state.resolved.map((r) => r.id)).toEqual(['compliance:unsupported-os:mi-2']);
    expect(Object.keys(pending.findings)).toEqual(['cost:not-ready:mi-1']);
    expect(report.alerts[0]).toMatchObject({
      subject: '[CRITICAL] nightly cost check failed: AccessDeniedException',
      check: 'cost',
    });
    expect(report.alerts[0]?.message).toContain('could not run: AccessDeniedException: not allowed');
  });

  it('says how much of a check ran when only some of its batches failed', async () => {
    const found = [finding('connectivity:kubelet:192.168.10.21:10250')];
    const { report, state } = await merge(
      [
        {
          check: 'connectivity',
          parts: [part('connectivity-0000', found), { failed: { Error: 'States.Timeout', Cause: 'timed out' } }],
        },
      ],
      { [KEYS.findings('connectivity-0000')]: found },
    );
    expect(state.failedChecks).toEqual(['connectivity']);
    expect(report.alerts[0]?.message).toContain('ran only in part (1 of 2 parts failed): States.Timeout: timed out');
    expect(state.counts.new).toBe(1);
  });
});

describe('publishSweepAlerts', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());
  const client = () =>
    new SNSClient({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const TOPIC = 'arn:aws:sns:ap-northeast-2:111122223333:eks-hybrid-ops-dev-alerts';
  const alerts = ['cost', 'compliance'].map((check) => ({
    subject: `[WARNING] gpu-hybrid-cluster ${check}: 1 new (nightly sweep)`,
    message: `Nightly ${check} sweep.`,
    severity: 'warning' as const,
    cluster: 'gpu-hybrid-cluster',
    check: check as 'cost' | 'compliance',
  }));

  it('publishes each alert with its severity, cluster and check attributes', async () => {
    const { store } = memoryStore({ [KEYS.report]: { alerts } });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const out = await publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(sns).toHaveReceivedNthCommandWith(1, PublishCommand, {
      TopicArn: TOPIC,
      Subject: alerts[0]?.subject,
      Message: 'Nightly cost sweep.',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'warning' },
        cluster: { DataType: 'String', StringValue: 'gpu-hybrid-cluster' },
        check: { DataType: 'String', StringValue: 'cost' },
      },
    });
    expect(out.alerts.map((a) => [a.check, a.messageId])).toEqual([
      ['cost', 'm-1'],
      ['compliance', 'm-1'],
    ]);
  });

  it('does not page twice when retried after publishing part of the night', async () => {
    const { store } = memoryStore({ [KEYS.report]: { alerts } });
    sns
      .on(PublishCommand)
      .resolvesOnce({ MessageId: 'm-1' })
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
      .resolves({ MessageId: 'm-2' });
    await expect(publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC })).rejects.toThrow(
      'throttled',
    );
    const out = await publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC });
    const subjects = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    expect(subjects).toEqual([alerts[0]?.subject, alerts[1]?.subject, alerts[1]?.subject]);
    expect(out.alerts.map((a) => a.messageId)).toEqual(['m-1', 'm-2']);
  });
});

describe('publishSweepAlerts when its record cannot be written', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());
  const TOPIC = 'arn:aws:sns:ap-northeast-2:111122223333:eks-hybrid-ops-dev-alerts';
  const alerts = ['cost', 'compliance', 'connectivity'].map((check) => ({
    subject: `[WARNING] c ${check}: 1 new (nightly sweep)`,
    message: `Nightly ${check} sweep.`,
    severity: 'warning' as const,
    cluster: 'c',
    check: check as 'cost',
  }));

  it('does not fail (which would page again on the retry): it writes the record with the next alert', async () => {
    const m = memoryStore({ [KEYS.report]: { alerts } });
    let writes = 0;
    const store = {
      ...m.store,
      putJson: async (key: string, value: unknown) => {
        writes += 1;
        if (writes === 1) throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
        return m.store.putJson(key, value);
      },
    };
    sns.on(PublishCommand).resolves({ MessageId: 'm' });

    const out = await publishSweepAlerts(
      {
        sns: new SNSClient({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
        store,
      },
      { sweepId: ID, topicArn: TOPIC },
    );

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
    expect(out.alerts).toHaveLength(3);
    expect(m.read<unknown[]>(KEYS.published)).toHaveLength(3);
  });

  it('stops, not to be retried, when a publish then fails too: a retry would page again', async () => {
    const m = memoryStore({ [KEYS.report]: { alerts } });
    const store = {
      ...m.store,
      putJson: async () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })),
    };
    const reset = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });
    sns.on(PublishCommand).resolvesOnce({ MessageId: 'm' }).rejects(reset);
    const attempt = () =>
      publishSweepAlerts(
        {
          sns: new SNSClient({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
          store,
        },
        { sweepId: ID, topicArn: TOPIC },
      );

    const error = await attempt().catch((e: Error) => e);

    expect(error).toMatchObject({ name: 'AlertsUnrecordedError' });
    expect((error as Error).message).toContain(`Sent: ${alerts[0]?.subject}.`);
    expect((error as Error).message).toContain(
      `Sent without an answer from SNS (may have gone out): ${alerts[1]?.subject}.`,
    );
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });
});

describe('reportSweepFailure: the failure alert says truly how far the night got', () => {
  const failure = { Error: 'AwsTransientError', Cause: 'S3 was slow' };
  const sent = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      subject: `[WARNING] alert ${i}`,
      severity: 'warning' as const,
      cluster: 'c',
      check: 'cost' as const,
      messageId: `m-${i}`,
    }));

  it('at SweepInventory: nothing was checked', async () => {
    const { notification } = await reportSweepFailure({}, { stage: 'dev', failure, step: 'SweepInventory' });
    expect(notification.message).toContain('Nothing was checked tonight');
  });

  it('at PublishSweepAlerts: names the alerts that went out, read from the record', async () => {
    const { store } = memoryStore({ [KEYS.published]: sent(2) });
    const { notification } = await reportSweepFailure(
      { store },
      { stage: 'dev', failure, sweepId: ID, step: 'PublishSweepAlerts', alertCount: 4 },
    );
    expect(notification.message).toContain(
      '2 of 4 alert(s) are recorded as sent before it failed:\n- [WARNING] alert 0\n- [WARNING] alert 1',
    );
    expect(notification.message).toContain("tomorrow's sweep reports tonight's findings again");
    expect(notification.message).not.toContain('Nothing was checked');
  });

  it('at PublishSweepAlerts, when the record cannot be read: says alerts may have gone out', async () => {
    const store = { putJson: async () => undefined, getJson: async () => Promise.reject(new Error('denied')) };
    const { notification } = await reportSweepFailure(
      { store },
      { stage: 'dev', failure, sweepId: ID, step: 'PublishSweepAlerts' },
    );
    expect(notification.message).toContain("Some of tonight's alerts may have gone out before it failed");
  });

  it('at PublishSweepAlerts after AlertsUnrecordedError: points to the error, not to the stale record', async () => {
    const { store } = memoryStore({ [KEYS.published]: [] });
    const unrecorded = {
      Error: 'AlertsUnrecordedError',
      Cause: JSON.stringify({
        errorMessage: 'Publishing failed (...). Sent: [WARNING] alert 0. Fix: check the bucket.',
      }),
    };
    const { notification } = await reportSweepFailure(
      { store },
      { stage: 'dev', failure: unrecorded, sweepId: ID, step: 'PublishSweepAlerts', alertCount: 4 },
    );
    expect(notification.message).toContain('Sent: [WARNING] alert 0.');
    expect(notification.message).toContain('The error above names the alerts that went out');
    expect(notification.message).not.toContain('No alert is recorded as sent tonight');
  });

  it('at CommitSweep: all went out; whether the memory was saved after all is read, not guessed', async () => {
    const tonight = emptyMemory();
    const saved = memoryStore({ [KEYS.pendingMemory]: tonight, [MEMORY_KEY]: tonight });
    const kept = memoryStore({
      [KEYS.pendingMemory]: tonight,
      [MEMORY_KEY]: { ...emptyMemory(), findings: { x: {} } },
    });
    const input = {
      stage: 'dev',
      failure,
      sweepId: ID,
      step: 'CommitSweep' as const,
      alertCount: 3,
      published: sent(3),
    };

    const lost = await reportSweepFailure({ store: saved.store }, input);
    const failed = await reportSweepFailure({ store: kept.store }, input);

    expect(lost.notification.message).toContain('All of 3 alert(s) went out, and the alert memory was saved after all');
    expect(failed.notification.message).toContain(
      "All of 3 alert(s) went out, but the alert memory could not be saved: tomorrow's sweep reports these findings again as new.",
    );
  });

  it.each([
    [{}, 'SweepInventory'],
    [{ inventory: {} }, 'MergeSweep'],
    [{ inventory: {}, report: {} }, 'PublishSweepAlerts'],
    [{ inventory: {}, report: {}, published: {} }, 'CommitSweep'],
  ])('%j failed at %s', (state, step) => {
    expect(failedSweepStep(state)).toBe(step);
  });
});

describe('commitSweep', () => {
  it('makes the pending memory the memory', async () => {
    const pending: AlertMemory = emptyMemory();
    pending.findings['cost:x'] = {
      severity: 'info',
      cluster: 'c',
      resource: 'x',
      firstSeen: NOW.toISOString(),
      lastAlerted: NOW.toISOString(),
    };
    const { store, read } = memoryStore({ [KEYS.pendingMemory]: pending });
    expect(await commitSweep({ store }, { sweepId: ID })).toEqual({ remembered: 1 });
    expect(read<AlertMemory>(MEMORY_KEY)).toEqual(pending);
  });

  it('fails rather than forget everything when there is no pending memory', async () => {
    await expect(commitSweep({ store: memoryStore().store }, { sweepId: ID })).rejects.toBeInstanceOf(StoreError);
  });
});

describe('publishSweepAlerts when SNS does not answer', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());
  const TOPIC = 'arn:aws:sns:ap-northeast-2:111122223333:eks-hybrid-ops-dev-alerts';
  const client = () =>
    new SNSClient({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const alerts = ['cost', 'compliance'].map((check) => ({
    subject: `[WARNING] c ${check}: 1 new (nightly sweep)`,
    message: `Nightly ${check} sweep.`,
    severity: 'warning' as const,
    cluster: 'c',
    check: check as 'cost',
  }));
  // What the SDK raises when the connection drops: no $fault (SNS never answered).
  const reset = () => Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });

  it('sends an unanswered alert once more on the retry, then goes on', async () => {
    const { store } = memoryStore({ [KEYS.report]: { alerts } });
    sns.on(PublishCommand).rejectsOnce(reset()).resolves({ MessageId: 'm' });

    await expect(publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC })).rejects.toThrow(
      'ECONNRESET',
    );
    const out = await publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC });

    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject)).toEqual([
      alerts[0]?.subject,
      alerts[0]?.subject,
      alerts[1]?.subject,
    ]);
    expect(out.alerts.map((a) => a.messageId)).toEqual(['m', 'm']);
  });

  it('never sends an alert a third time: after two unanswered sends it names it as unconfirmed', async () => {
    const m = memoryStore({ [KEYS.report]: { alerts } });
    sns.on(PublishCommand).rejects(reset());
    const attempt = () => publishSweepAlerts({ sns: client(), store: m.store }, { sweepId: ID, topicArn: TOPIC });

    await expect(attempt()).rejects.toThrow('ECONNRESET');
    await expect(attempt()).rejects.toThrow('ECONNRESET');
    const last = await attempt().catch((e: Error) => e);
    await expect(attempt()).rejects.toMatchObject({ name: 'AlertsUnconfirmedError' });

    expect(last).toMatchObject({ name: 'AlertsUnconfirmedError' });
    expect((last as Error).message).toContain(`2 of tonight's 2 alert(s) were sent 2 times without an answer from SNS`);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 4);
    expect(m.read<Array<{ unanswered: number }>>(KEYS.published).map((e) => e.unanswered)).toEqual([2, 2]);
  });

  it('sends again an alert SNS refused (it answered: nothing went out)', async () => {
    const { store } = memoryStore({ [KEYS.report]: { alerts } });
    const refused = Object.assign(new Error('Invalid parameter'), { name: 'InternalErrorException', $fault: 'server' });
    sns.on(PublishCommand).rejectsOnce(refused).rejectsOnce(refused).rejectsOnce(refused).resolves({ MessageId: 'm' });

    for (let i = 0; i < 3; i += 1) {
      await expect(publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC })).rejects.toThrow(
        'Invalid',
      );
    }
    const out = await publishSweepAlerts({ sns: client(), store }, { sweepId: ID, topicArn: TOPIC });

    expect(out.alerts).toHaveLength(2);
  });
});
