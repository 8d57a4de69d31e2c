/** Kubernetes syntax rules the NodeConfig's kubelet flags must satisfy, and the version skew policy. */

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** kubelet may be at most this many minor versions older than the API server, never newer. */
export const KUBELET_MAX_MINOR_SKEW = 3;

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

/** Prefixes a kubelet may not set on its own Node (NodeRestriction), or that nodeadm and this project own. */
const RESERVED_LABEL_PREFIXES = ['kubernetes.io', 'k8s.io', 'eks.amazonaws.com'];
const KUBELET_ALLOWED_PREFIXES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
/** kubernetes.io labels a kubelet may still set on itself (kubelet's own allow-list). */
const KUBELET_ALLOWED_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);

/** Returns why `key` is not a valid label or taint key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return `prefix '${prefix}' must be a DNS subdomain (lower-case alphanumerics, '-' and '.', at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
    return `name '${name}' must be 1-63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

/** Returns why `value` is not a valid label or taint value, or undefined when it is. Empty is valid. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !QUALIFIED_NAME_PART.test(value)) {
    return `value '${value}' must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

/**
 * Returns why a user-supplied node label key is not allowed on a kubelet's `--node-labels`,
 * or undefined. `ownPrefix` is this project's label prefix, reserved for the request label.
 */
export function reservedLabelProblem(key: string, ownPrefix: string): string | undefined {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash);
  const isUnder = (domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);
  if (isUnder(ownPrefix)) return `prefix '${prefix}' is reserved for labels this project sets`;
  if (KUBELET_ALLOWED_LABELS.has(key) || KUBELET_ALLOWED_PREFIXES.some(isUnder)) return undefined;
  const reserved = RESERVED_LABEL_PREFIXES.find(isUnder);
  return reserved
    ? `prefix '${prefix}' is reserved (${reserved}); a kubelet may not set it on its own Node`
    : undefined;
}

export interface KubernetesVersion {
  major: number;
  minor: number;
}

export function parseKubernetesVersion(text: string): KubernetesVersion | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?$/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/**
 * `major.minor` of a kubelet version as a Node reports it, such as v1.31.4-eks-1234567 (the VERSION
 * column of kubectl get nodes), or of a plain one.
 */
export function parseKubeletVersion(text: string | undefined): KubernetesVersion | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(text?.trim() ?? '');
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/**
 * Says whether a kubelet of version `requested` may join a control plane at `cluster`:
 * same major, not newer, at most {@link KUBELET_MAX_MINOR_SKEW} minors older.
 */
export function kubeletSkewProblem(requested: string, cluster: string): string | undefined {
  const want = parseKubernetesVersion(requested);
  const have = parseKubernetesVersion(cluster);
  if (!want) return `'${requested}' is not a Kubernetes version (use major.minor, e.g. ${cluster})`;
  if (!have) return `the cluster reports an unreadable version '${cluster}'`;
  const oldest = Math.max(0, have.minor - KUBELET_MAX_MINOR_SKEW);
  if (want.major !== have.major || want.minor > have.minor || want.minor < oldest) {
    return `kubelet ${requested} cannot join a ${cluster} control plane; allowed: ${have.major}.${oldest} to ${cluster} (kubelet may be up to ${KUBELET_MAX_MINOR_SKEW} minor versions older, never newer)`;
  }
  return undefined;
}
