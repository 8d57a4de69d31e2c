import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { runWorkflow } from '#cli/runner';
import type { SweepOutput } from '#cli/workflows/nightly-sweep';
import type { DesiredState } from '#lib/desired-state/schema';
import { SandboxEstate, sandboxRuntime, withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { sandboxTopicArn } from '#lib/sandbox/services/sns';
import { desiredStateParameter, type Settings } from '#lib/settings';
import { PAGE_SIZES } from '#lib/sweep/inventory';
import { TARGETS_PER_BATCH } from '#lib/sweep/sweep-inventory';

/**
 * The nightly sweep at scale on the sandbox: the whole state machine (real ASL, real handlers)
 * over 100, 1,000 and 10,000 hybrid nodes in one cluster. 2% of them are NotReady (their kubelet
 * does not answer), 1% run an unsupported OS, the rest are healthy. Measures the wall time and
 * the AWS calls, against the lower bound: the pages each list needs at its largest page size,
 * the fixed reads, and the sweep store's objects.
 */
export async function sweepBench(sizes: number[], runs: number) {
  const results = [];
  for (const nodes of sizes) {
    const times: number[] = [];
    let last:
      { calls: Record<string, number>; output: SweepOutput; transitions: number; maxStateBytes: number } | undefined;
    for (let run = 0; run < runs; run += 1) {
      const { estate, settings, desired } = estateOf(nodes);
      const runtime = sandboxRuntime(estate, settings);
      await putDesiredState(runtime, desired);
      const first = estate.calls.length;
      const started = performance.now();
      const result = await runWorkflow({
        workflow: 'nightly-sweep',
        input: { trigger: 'bench' },
        runtime,
        estate,
        alertTopicArn: settings.alertTopicArn ?? '',
      });
      times.push(performance.now() - started);
      if (result.status !== 'SUCCEEDED') throw new Error(`sweep of ${nodes} failed: ${JSON.stringify(result.error)}`);
      const calls: Record<string, number> = {};
      for (const c of estate.calls.slice(first)) {
        if (c.service === 'probe') continue;
        const name = `${c.service}:${c.command}`;
        calls[name] = (calls[name] ?? 0) + 1;
      }
      last = {
        calls,
        output: result.output as SweepOutput,
        transitions: result.history.filter((e) => e.type === 'StateEntered').length,
        // The largest input or output any state had: Step Functions allows 256 KiB.
        maxStateBytes: Math.max(...result.history.map((e) => Buffer.byteLength(JSON.stringify(e.data ?? null)))),
      };
    }
    if (!last) throw new Error('no runs');
    const targets = last.output.inventory.targets;
    const batches = Math.ceil(targets / TARGETS_PER_BATCH);
    const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
    // Reads: the desired state; every managed instance, the cluster's tagged ones, the
    // activations, the Nodes; DescribeCluster, DescribeVpcs, ListInsights and the four EFS/EC2
    // reads; Cost Explorer four times (the SERVICE and USAGE_TYPE names, the spend, the forecast).
    const lowerReads =
      1 +
      pages(nodes, PAGE_SIZES.describeInstanceInformation) * 2 +
      pages(1, PAGE_SIZES.describeActivations) +
      pages(nodes, PAGE_SIZES.listNodes) +
      3 +
      4 +
      4;
    const aws = (prefix: string) =>
      Object.entries(last?.calls ?? {})
        .filter(([k]) => prefix.split('|').some((p) => k.startsWith(p)))
        .reduce((a, [, v]) => a + v, 0);
    results.push({
      nodes,
      wallMs: median(times),
      transitions: last.transitions,
      maxStateBytes: last.maxStateBytes,
      targets,
      batches,
      findings: last.output.findingsTotal,
      reads: aws('ssm:|eks:|ec2:|efs:|ce:|kubernetes:'),
      lowerReads,
      s3: aws('s3:'),
      // The store's objects: each written once and read once by the step after (2 per batch,
      // inventory, cost, compliance, DNS, report, memory); one progress write per alert.
      lowerS3: 4 * batches + 17 + aws('sns:'),
      sns: aws('sns:'),
      calls: last.calls,
    });
  }
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Writes `desired` to the stage's desired-state parameter, as a deploy would. */
export async function putDesiredState(runtime: ReturnType<typeof sandboxRuntime>, desired: DesiredState) {
  await runtime.clients.ssm.send(
    new PutParameterCommand({
      Name: desiredStateParameter(runtime.settings),
      Type: 'String',
      Value: JSON.stringify(desired),
      Overwrite: true,
    }),
  );
}

export function estateOf(count: number) {
  const seed = loadSeed(DEFAULT_SEED);
  const ip = (i: number) => `192.168.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  const notReady = (i: number) => i % 50 === 7;
  seed.fleet = Array.from({ length: count }, (_, i) => ({
    name: `node-${i}`,
    instanceId: `mi-${i.toString(16).padStart(17, '0')}`,
    cluster: 'gpu-hybrid-cluster',
    ip: ip(i),
    platform: i % 100 === 3 ? 'Rocky Linux' : 'Ubuntu',
    platformVersion: i % 100 === 3 ? '9.3' : '22.04',
    vcpus: 64,
    gpus: 0,
    joinedDaysAgo: 40,
    ...(notReady(i) ? { notReadyForHours: 12 } : {}),
    pingStatus: 'Online' as const,
    ours: true,
    node: true,
  }));
  seed.onPrem.links = [
    ...seed.onPrem.links.filter((l) => l.host.startsWith('192.168.1.')),
    ...seed.fleet
      .filter((_, i) => !notReady(i))
      .map((f) => ({ host: f.ip, latencyMs: 1.8, jitterMs: 0.3, lossPercent: 0 })),
  ];
  seed.activations = [];
  const estate = withServices(SandboxEstate.inMemory(seed));
  const settings: Settings = {
    stage: 'bench',
    region: seed.region,
    clusterName: 'gpu-hybrid-cluster',
    hybridNodesRoleName: 'AmazonEKSHybridNodesRole',
    parameterPrefix: '/eks-hybrid-ops/bench',
    labelPrefix: 'hybridops.io',
    alertTopicArn: sandboxTopicArn(seed.region, seed.account),
    resolutionChecks: true,
    connectivityProbes: true,
    storeBucket: sandboxStoreBucket(seed.account),
  };
  const desired: DesiredState = {
    version: 1,
    clusters: [
      {
        name: 'gpu-hybrid-cluster',
        efs: {
          fileSystemId: 'fs-0a1b2c3d4e5f60718',
          securityGroupId: 'sg-0e5f0a1b2c3d40718',
          createMissingMountTargets: false,
          podsNatted: true,
          mountOptions: 'vers=4.1',
          extraCidrs: [],
        },
      },
    ],
    sweep: {
      pricePerVcpuHour: 0.1099,
      probe: { samples: 20, intervalMs: 50, timeoutMs: 1000 },
    },
  };
  return { estate, settings, desired };
}
