import * as z from 'zod';
import { isCidr, isIpv4 } from '../domain/ipv4';

/**
 * The desired state of a stage, one reviewed file per stage (`config/<stage>.yaml`): the network
 * hybrid nodes need (which the reconciler applies and the sweep checks), and the sweep's settings.
 * Everything not declared here is derived from the cluster itself. Validated when the service is
 * packaged (resources/network-desired-state.js) and again at run time.
 */

/** Route 53 Resolver quota: target IPs per forwarding rule (REFERENCE.md section 7). */
export const MAX_TARGETS_PER_RULE = 6;
/** The seed's recommended NFS mount options for on-prem clients (REFERENCE.md section 4). */
export const DEFAULT_MOUNT_OPTIONS = 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2';

const DOMAIN = /^(?=.{1,253}\.?$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.?$/;
const id = (prefix: string, what: string) =>
  z
    .string({ error: `${what} is required: an id like ${prefix}0123456789abcdef` })
    .regex(new RegExp(`^${prefix}[0-9a-f]{8,17}$`), `${what} must look like ${prefix}0123456789abcdef`);

const target = z.strictObject({
  ip: z.string({ error: 'ip is required' }).refine(isIpv4, 'ip must be an IPv4 address such as 192.168.1.53'),
  port: z
    .number({ error: 'port must be a number 1-65535' })
    .int('port must be a whole number 1-65535')
    .min(1, 'port must be 1-65535')
    .max(65535, 'port must be 1-65535')
    .default(53),
});

const rule = z.strictObject({
  domain: z
    .string({ error: 'domain is required, e.g. company.local' })
    .transform((d) => d.toLowerCase().replace(/\.$/, ''))
    .refine((d) => DOMAIN.test(d), 'domain must be a DNS name such as company.local'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9 _-]{1,64}$/, 'name must be 1-64 letters, digits, spaces, - or _')
    .optional(),
  targets: z
    .array(target, { error: 'targets must be a list of {ip, port}' })
    .min(1, 'targets must list at least one on-prem DNS server')
    .max(MAX_TARGETS_PER_RULE, `targets can list at most ${MAX_TARGETS_PER_RULE} servers (the Resolver quota)`),
  /** VPCs to associate; default: the cluster's own VPC. */
  vpcs: z.array(id('vpc-', 'each of vpcs')).min(1).optional(),
});

const cluster = z.strictObject({
  name: z
    .string({ error: 'name is required: the EKS cluster name' })
    .regex(
      /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/,
      'name must be an EKS cluster name: 1-100 letters, digits, - or _, starting with a letter or digit',
    ),
  dns: z
    .strictObject({
      outbound: z.strictObject({
        endpointId: id('rslvr-out-', 'dns.outbound.endpointId'),
        rules: z.array(rule).min(1, 'dns.outbound.rules must declare at least one domain'),
      }),
      inbound: z.strictObject({ endpointId: id('rslvr-in-', 'dns.inbound.endpointId') }).optional(),
      /** Names to resolve both ways, to check resolution itself. */
      checks: z
        .strictObject({
          onPremName: z
            .string()
            .refine((d) => DOMAIN.test(d), 'onPremName must be a DNS name')
            .optional(),
          awsName: z
            .string()
            .refine((d) => DOMAIN.test(d), 'awsName must be a DNS name')
            .optional(),
        })
        .optional(),
    })
    .optional(),
  efs: z
    .strictObject({
      fileSystemId: id('fs-', 'efs.fileSystemId'),
      /** The security group of the mount targets; its TCP 2049 rules are reconciled. */
      securityGroupId: id('sg-', 'efs.securityGroupId'),
      createMissingMountTargets: z.boolean({ error: 'createMissingMountTargets must be true or false' }).default(false),
      /** Whether on-prem pods reach EFS with their own IPs (then the pod CIDRs are allowed too). */
      podsNatted: z.boolean({ error: 'podsNatted must be true or false' }).default(true),
      mountOptions: z.string().min(1).default(DEFAULT_MOUNT_OPTIONS),
      /** Extra CIDRs allowed to mount besides the VPC and the remote networks (e.g. a backup host). */
      extraCidrs: z
        .array(
          z
            .string()
            .refine(isCidr, 'extraCidrs must hold CIDR blocks')
            .refine(
              (c) => !isCidr(c) || Number(c.split('/')[1]) >= 8,
              'extraCidrs must be /8 or narrower: NFS is never opened wider',
            ),
        )
        .default([]),
    })
    .optional(),
  /** On-prem NFS servers the cluster's nodes mount, probed nightly on TCP 2049. */
  onPremNfs: z
    .array(
      z.strictObject({
        ip: z.string({ error: 'ip is required' }).refine(isIpv4, 'ip must be an IPv4 address such as 192.168.30.5'),
        name: z.string().min(1).max(64).optional(),
      }),
      { error: 'onPremNfs must be a list of {ip, name}' },
    )
    .max(50, 'onPremNfs can list at most 50 servers')
    .optional(),
});

/**
 * The `sweep:` section: what the nightly sweep checks against (the stage's budget, the price, how
 * links are probed). Part of the file's format, so the file is validated whole at package time;
 * the sweep reads it through lib/sweep/config.ts.
 */
export const SweepSectionSchema = z.strictObject({
  /** Month-end forecast above this (USD) is critical, above 90% of it a warning; none: not checked. */
  monthlyBudgetUsd: z.number({ error: 'monthlyBudgetUsd must be a number of USD' }).positive().optional(),
  /** USD per vCPU-hour of hybrid nodes (REFERENCE.md section 5: 0.1099 in February 2025). */
  pricePerVcpuHour: z.number({ error: 'pricePerVcpuHour must be a number of USD' }).positive().max(10).default(0.1099),
  /**
   * The Cost Explorer SERVICE value hybrid nodes bill under. Unset (the default): found each night
   * with GetDimensionValues (EKS is listed as "Amazon Elastic Container Service for Kubernetes").
   */
  costService: z.string({ error: 'costService must be a Cost Explorer SERVICE value' }).min(1).optional(),
  /** The Cost Explorer USAGE_TYPE values of hybrid nodes' vCPU-hours. Unset: found each night. */
  hybridUsageTypes: z
    .array(z.string().min(1), { error: 'hybridUsageTypes must be a list of Cost Explorer USAGE_TYPE values' })
    .min(1, 'hybridUsageTypes must list at least one usage type, or be left out to discover them')
    .optional(),
  probe: z
    .strictObject({
      samples: z
        .number()
        .int('samples must be a whole number')
        .min(2, 'samples must be 2-100')
        .max(100, 'samples must be 2-100')
        .default(20),
      intervalMs: z
        .number()
        .int()
        .min(0, 'intervalMs must be 0-1000')
        .max(1000, 'intervalMs must be 0-1000')
        .default(50),
      timeoutMs: z
        .number()
        .int()
        .min(100, 'timeoutMs must be 100-5000')
        .max(5000, 'timeoutMs must be 100-5000')
        .default(1000),
    })
    .prefault({}),
});

export const DesiredStateSchema = z.strictObject(
  {
    version: z.literal(1, { error: 'version must be 1' }),
    clusters: z.array(cluster, { error: 'clusters must be a list' }),
    sweep: SweepSectionSchema.optional(),
  },
  { error: 'the file must be a YAML mapping with version: 1 and clusters: [...]' },
);

export type DesiredState = z.output<typeof DesiredStateSchema>;
export type ClusterDesiredState = DesiredState['clusters'][number];
export type EfsDesiredState = NonNullable<ClusterDesiredState['efs']>;
export type RuleDesiredState = NonNullable<ClusterDesiredState['dns']>['outbound']['rules'][number];

export type ConfigResult = { ok: true; state: DesiredState } | { ok: false; problems: string[] };

/** Validates a desired state; every problem names its field (`clusters.0.dns.outbound.rules.1.targets`). */
export function validateDesiredState(value: unknown): ConfigResult {
  const parsed = DesiredStateSchema.safeParse(value);
  const problems = parsed.success ? crossFieldProblems(parsed.data) : [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.join('.') || '(file)';
      problems.push(
        issue.code === 'unrecognized_keys'
          ? `${field}: unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`
          : `${field}: ${issue.message}`,
      );
    }
  }
  return parsed.success && problems.length === 0 ? { ok: true, state: parsed.data } : { ok: false, problems };
}

/** Rules zod cannot see field by field: duplicates. */
function crossFieldProblems(state: DesiredState): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  state.clusters.forEach((c, i) => {
    if (names.has(c.name)) problems.push(`clusters.${i}.name: cluster '${c.name}' is declared twice`);
    names.add(c.name);
    const domains = new Set<string>();
    c.dns?.outbound.rules.forEach((r, j) => {
      if (domains.has(r.domain)) {
        problems.push(`clusters.${i}.dns.outbound.rules.${j}.domain: '${r.domain}' is declared twice`);
      }
      domains.add(r.domain);
      if (r.vpcs && new Set(r.vpcs).size !== r.vpcs.length) {
        problems.push(`clusters.${i}.dns.outbound.rules.${j}.vpcs: a VPC is listed twice`);
      }
      const targets = new Set(r.targets.map((t) => `${t.ip}:${t.port}`));
      if (targets.size !== r.targets.length) {
        problems.push(`clusters.${i}.dns.outbound.rules.${j}.targets: a target is listed twice`);
      }
    });
  });
  return problems;
}

/** True when the desired state declares nothing to reconcile (apply is then refused). */
export function isEmptyDesiredState(state: DesiredState): boolean {
  return state.clusters.every((c) => !c.dns && !c.efs);
}
