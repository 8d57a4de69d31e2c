/**
 * Operating systems AWS supports for EKS Hybrid Nodes (REFERENCE.md section 1, seed 001).
 * AWS supports the hybrid integration; the OS itself is supported by its vendor.
 */
export const SUPPORTED_OPERATING_SYSTEMS = [
  'ubuntu-20.04',
  'ubuntu-22.04',
  'ubuntu-24.04',
  'rhel-8',
  'rhel-9',
  'al2023',
] as const;

export type SupportedOperatingSystem = (typeof SUPPORTED_OPERATING_SYSTEMS)[number];

/** Operating systems people ask for that are known not to work, with the reason to show them. */
const KNOWN_UNSUPPORTED: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /^bottlerocket/,
    reason: 'Bottlerocket is no longer supported for hybrid nodes joined with nodeadm',
  },
  { pattern: /^rocky/, reason: 'Rocky Linux is not supported for EKS Hybrid Nodes (it is outside AWS Support)' },
  { pattern: /^(centos|amzn2|al2|amazon-linux-2)(-|$)/, reason: 'this OS is not on the EKS Hybrid Nodes support list' },
];

export type OsVerdict = { supported: true; os: SupportedOperatingSystem } | { supported: false; reason: string };

/** Normalises `Ubuntu 22.04`, `ubuntu22.04`, `RHEL 9`, `AL2023` to the ids above. */
export function normaliseOs(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/^(ubuntu|rhel|rocky|bottlerocket|centos)[\s_-]*(?=\d)/, '$1-')
    .replace(/^amazon[\s_-]*linux[\s_-]*2023$/, 'al2023')
    .replace(/\s+/g, '-');
}

/** Says whether an OS can run a hybrid node, and why not when it cannot. */
export function judgeOs(raw: string): OsVerdict {
  const os = normaliseOs(raw);
  const supported = SUPPORTED_OPERATING_SYSTEMS.find((s) => s === os);
  if (supported) return { supported: true, os: supported };
  const known = KNOWN_UNSUPPORTED.find((k) => k.pattern.test(os));
  const allowed = SUPPORTED_OPERATING_SYSTEMS.join(', ');
  return {
    supported: false,
    reason: `${known ? known.reason : `'${raw}' is not a supported hybrid node OS`}; supported: ${allowed}`,
  };
}
