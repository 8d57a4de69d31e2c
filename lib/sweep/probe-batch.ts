import type { Prober } from '../net/probe';
import { mustGet, type RunStore } from '../store';
import type { SweepConfig } from './config';
import { classifyLink, connectivityFinding, linkStats, type ProbeTarget } from './connectivity';
import type { SweepFinding } from './findings';
import type { CheckPart } from './state';
import { runKeys } from './store';
import { mapLimit } from '../concurrency';

/** TCP probes a probe Lambda runs at once. */
export const PROBE_CONCURRENCY = 25;

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
