import type { ProbeSample } from '../net/probe';
import type { SweepFinding } from './findings';

/** The seed's connectivity baseline (REFERENCE.md section 2): target / warning / critical. */
export const LINK_THRESHOLDS = {
  /** Below `target` is on target; up to and including `critical` is a warning; above is critical. */
  latencyMs: { target: 5, critical: 10 },
  jitterMs: { target: 2, critical: 5 },
  lossPercent: { target: 0.01, critical: 0.1 },
} as const;

export type LinkClass = 'target' | 'warning' | 'critical';

export interface LinkStats {
  attempted: number;
  failed: number;
  /** Median connect time of the successful samples; undefined when none succeeded. */
  latencyMs?: number;
  /** Mean absolute difference of consecutive successful samples. */
  jitterMs?: number;
  lossPercent: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Latency, jitter and loss of a set of TCP connect samples. */
export function linkStats(samples: ProbeSample[]): LinkStats {
  const times = samples.filter((s) => s.ok && s.ms !== undefined).map((s) => s.ms as number);
  const failed = samples.length - times.length;
  const diffs = times.slice(1).map((t, i) => Math.abs(t - (times[i] as number)));
  return {
    attempted: samples.length,
    failed,
    latencyMs: times.length ? median(times) : undefined,
    jitterMs: diffs.length ? diffs.reduce((a, b) => a + b, 0) / diffs.length : times.length ? 0 : undefined,
    lossPercent: samples.length ? (failed / samples.length) * 100 : 0,
  };
}

export function classify(value: number, limits: { target: number; critical: number }): LinkClass {
  if (value < limits.target) return 'target';
  return value <= limits.critical ? 'warning' : 'critical';
}

/** Each metric's class; a path with no successful sample is critical on every count. */
export function classifyLink(stats: LinkStats): {
  latency: LinkClass;
  jitter: LinkClass;
  loss: LinkClass;
  overall: LinkClass;
} {
  const t = LINK_THRESHOLDS;
  const latency = stats.latencyMs === undefined ? 'critical' : classify(stats.latencyMs, t.latencyMs);
  const jitter = stats.jitterMs === undefined ? 'critical' : classify(stats.jitterMs, t.jitterMs);
  const loss = classify(stats.lossPercent, t.lossPercent);
  const rank: LinkClass[] = ['target', 'warning', 'critical'];
  const overall = rank[Math.max(...[latency, jitter, loss].map((c) => rank.indexOf(c)))] as LinkClass;
  return { latency, jitter, loss, overall };
}

/** TCP connects cannot measure bandwidth: said plainly rather than a number invented. */
export const BANDWIDTH_NOTE =
  'Bandwidth (target > 10 Gbps) cannot be measured with TCP connects from Lambda; check it with iperf3 between the sites.';

/** A path to probe: what it is, where, and why it matters. */
export interface ProbeTarget {
  cluster: string;
  kind: 'kubelet' | 'dns' | 'nfs';
  host: string;
  port: number;
  /** The node name for a kubelet, the server's role otherwise. */
  name: string;
}

const FIX: Record<ProbeTarget['kind'], string> = {
  kubelet:
    'Check the VPN/Direct Connect path and the firewall for TCP 10250 from the cluster to the node (REFERENCE.md section 2); the seed recommends under 5 ms.',
  dns: 'Check the path to the on-prem DNS server (TCP/UDP 53) and the outbound endpoint security group.',
  nfs: 'Check the path for TCP 2049 and the firewall between the sites; NFS suffers first from jitter and loss.',
};

const fmt = (ms?: number) => (ms === undefined ? 'n/a' : `${ms.toFixed(2)} ms`);

/** The finding for one probed path, or none when every metric is on target. */
export function connectivityFinding(target: ProbeTarget, stats: LinkStats): SweepFinding | undefined {
  const classes = classifyLink(stats);
  if (classes.overall === 'target') return undefined;
  const bad = (['latency', 'jitter', 'loss'] as const).filter((m) => classes[m] !== 'target');
  const evidence = `latency ${fmt(stats.latencyMs)} (${classes.latency}), jitter ${fmt(stats.jitterMs)} (${classes.jitter}), loss ${stats.lossPercent.toFixed(2)} % (${classes.loss}) over ${stats.attempted} TCP connects`;
  return {
    id: `connectivity:${target.kind}:${target.host}:${target.port}`,
    check: 'connectivity',
    severity: classes.overall === 'critical' ? 'critical' : 'warning',
    cluster: target.cluster,
    resource: `${target.name} (${target.host}:${target.port})`,
    message: `${target.kind} path to ${target.name} is ${classes.overall} on ${bad.join(', ')}.`,
    evidence,
    fix: FIX[target.kind],
  };
}
