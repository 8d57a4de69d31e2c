import { IpAddressStatus, ResolverEndpointStatus } from '@aws-sdk/client-route53resolver';
import { parse } from 'yaml';
import * as z from 'zod';
import type { NoSeed, SandboxService } from './service';
import { SANDBOX_SERVICES } from './services';

/**
 * The sandbox estate's seed: what sandbox/estate.yaml may declare (the AWS resources, the on-prem
 * servers and links, the scenarios), as a zod schema, so a wrong seed fails with the field named.
 */

/**
 * How the simulated servers behave, in seconds of sandbox time; null: never. A scenario is chosen
 * per run (`--scenario`); its join timings default to the `joins` scenario's, so a scenario about
 * what happens after the join still lets a server join.
 */
const ScenarioSchema = z.object({
  /** After its NodeConfig is fetched, until it registers with SSM (installing nodeadm, running init). */
  registersAfterSeconds: z.number().int().min(0).nullable().default(20),
  /** After registering, until its kubelet has created the Node; null: the kubelet never reaches the cluster. */
  nodeAppearsAfterSeconds: z.number().int().min(0).nullable().default(15),
  /** After the Node appears, until it is Ready (a CNI runs on it); null: stays NotReady. */
  readyAfterSeconds: z.number().int().min(0).nullable().default(20),
  /**
   * Every PodDisruptionBudget answers as if its owners had set `maxUnavailable: 0`, so no pod it
   * covers can be evicted (lib/sandbox/kubernetes.ts): a drain that cannot finish.
   */
  blockingPdb: z.boolean().default(false),
  /**
   * Servers (by name) that are down when the run starts: their SSM agent no longer reaches SSM
   * (PingStatus ConnectionLost), their kubelet no longer posts status (the Node is Unknown), and
   * Run Command never delivers to them. They stay down until the sandbox is reset.
   */
  offlineHosts: z.array(z.string()).default([]),
  /** How long before the run they went down (never before they registered). */
  offlineForSeconds: z.number().int().min(0).default(3600),
  /** From SendCommand until the host's SSM agent has the command and runs it. */
  commandPickupSeconds: z.number().int().min(0).default(5),
  /** How long `nodeadm uninstall` runs (stopping and removing the kubelet, the agent, containerd...). */
  uninstallSeconds: z.number().int().min(1).default(45),
  /** How long `nodeadm upgrade` runs (package upgrades and downloads, then the kubelet restart). */
  upgradeSeconds: z.number().int().min(1).default(180),
  /** After `nodeadm upgrade` restarts the kubelet, until the Node is Ready again at the new version. */
  upgradeReadySeconds: z.number().int().min(0).default(30),
  /**
   * `nodeadm uninstall` exits 1: its pod validation finds a pod that is neither a DaemonSet's nor
   * static (one scheduled after the drain); with `--skip pod-validation`, deregistering from SSM fails.
   */
  uninstallFails: z.boolean().default(false),
  /** `nodeadm upgrade` exits 1: the SSM installer's signature does not verify (nodeadm before 1.0.19). */
  upgradeFails: z.boolean().default(false),
  /**
   * On-prem managed instances other teams registered in this account and Region (no tags of this
   * project, no Node of its clusters): SSM lists them and counts them toward the standard tier's
   * 1,000 (lib/sandbox/scenario-facts.ts). They stay registered until the sandbox is reset.
   */
  otherManagedInstances: z.number().int().min(0).max(100_000).default(0),
  /**
   * GPUs lost per server (by the name it joined under): the device plugin reports them unhealthy,
   * so the Node's allocatable `nvidia.com/gpu` drops below its capacity. Lost until the sandbox is reset.
   */
  lostGpus: z.record(z.string(), z.number().int().min(1)).default({}),
  /**
   * After a GPU server's Node is Ready, until the NVIDIA device plugin's DaemonSet pod runs there
   * and registers the GPUs (nvidia.com/gpu in capacity and allocatable); null: no plugin runs.
   */
  devicePluginAfterSeconds: z.number().int().min(0).nullable().default(40),
  /** GPUs the server was said to have that its host does not show (the plugin registers the rest). */
  missingGpus: z.number().int().min(0).default(0),
  /** nvidia-smi in a pod on the server fails: the driver and its user-space library differ. */
  smokeTestFails: z.boolean().default(false),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

/**
 * The sandbox's release manifest: the versions EKS supports for hybrid nodes when this was written.
 * The build suffixes are made up, in the format EKS uses (`v1.31.0-eks-a737599`, EKS user guide,
 * hybrid nodes CNI page).
 */
const DEFAULT_RELEASES: Record<string, string> = {
  '1.29': 'v1.29.15-eks-473151a',
  '1.30': 'v1.30.14-eks-b707fbb',
  '1.31': 'v1.31.13-eks-113cf36',
  '1.32': 'v1.32.9-eks-c39b1d0',
  '1.33': 'v1.33.5-eks-ecaa3a6',
};

const tags = z.array(z.object({ Key: z.string(), Value: z.string() })).default([]);

/** Route 53 Resolver, EFS and security-group state, as the seed declares it (with its drift). */
const NetworkSeedSchema = z.object({
  resolverEndpoints: z
    .array(
      z.object({
        id: z.string(),
        direction: z.enum(['INBOUND', 'OUTBOUND']),
        /** As GetResolverEndpoint reports it: one of the SDK model's ResolverEndpointStatus values. */
        status: z.enum(Object.values(ResolverEndpointStatus)).default(ResolverEndpointStatus.Operational),
        vpcId: z.string(),
        /**
         * `status`: the address's IpAddressStatus (SDK enum; default ATTACHED), so a seed or test
         * can hold one that is CREATING, UPDATE_FAILED and so on.
         */
        ips: z.array(
          z.object({
            ip: z.string(),
            subnetId: z.string(),
            status: z.enum(Object.values(IpAddressStatus)).default(IpAddressStatus.Attached),
          }),
        ),
      }),
    )
    .default([]),
  resolverRules: z
    .array(
      z.object({
        id: z.string(),
        name: z.string().optional(),
        domain: z.string(),
        ruleType: z.enum(['FORWARD', 'SYSTEM', 'RECURSIVE']).default('FORWARD'),
        endpointId: z.string().optional(),
        targets: z.array(z.object({ ip: z.string(), port: z.number().default(53) })).default([]),
        creatorRequestId: z.string().optional(),
        tags,
        /** VPCs associated with the rule, including associations still being made or removed. */
        vpcs: z.array(z.string()).default([]),
        /**
         * Associations not yet COMPLETE (CREATING) or on their way out (DELETING), and when AWS
         * finishes them; state only, the seed's associations are COMPLETE.
         */
        changing: z
          .record(z.string(), z.object({ status: z.enum(['CREATING', 'DELETING']), until: z.string() }))
          .optional(),
        /** While set and in the future, the rule is UPDATING (state only). */
        updatingUntil: z.string().optional(),
      }),
    )
    .default([]),
  fileSystems: z
    .array(
      z.object({
        id: z.string(),
        encrypted: z.boolean().default(true),
        oneZone: z.string().optional(),
        mountTargets: z
          .array(
            z.object({
              id: z.string(),
              subnetId: z.string(),
              ip: z.string(),
              securityGroups: z.array(z.string()),
              /** While set and in the future, the mount target is `creating` (state only). */
              availableAt: z.string().optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  /**
   * How long AWS takes to finish what it does asynchronously, in sandbox seconds. AWS answers
   * AssociateResolverRule with the association CREATING and DisassociateResolverRule with it
   * DELETING (the SDK model's ResolverRuleAssociationStatus; Terraform's AWS provider waits out
   * both), and CreateMountTarget "returns ... while the mount target state is still creating"
   * (EFS API reference). An updated rule is UPDATING, then COMPLETE (ResolverRuleStatus; Terraform
   * waits for it too). AWS gives no figure; these are typical (mount targets: 1-2 minutes).
   * 0 makes a change instant, which AWS never is.
   */
  delays: z
    .object({
      associateSeconds: z.number().min(0).default(30),
      disassociateSeconds: z.number().min(0).default(30),
      updateRuleSeconds: z.number().min(0).default(20),
      mountTargetSeconds: z.number().min(0).default(90),
    })
    .default({ associateSeconds: 30, disassociateSeconds: 30, updateRuleSeconds: 20, mountTargetSeconds: 90 }),
  securityGroupRules: z
    .array(
      z.object({
        id: z.string(),
        groupId: z.string(),
        isEgress: z.boolean().default(false),
        protocol: z.string(),
        fromPort: z.number(),
        toPort: z.number(),
        cidr: z.string(),
        tags,
      }),
    )
    .default([]),
});
export type NetworkSeed = z.infer<typeof NetworkSeedSchema>;

const labels = z.record(z.string(), z.string()).default({});
const grace = z.number().int().min(0).default(30); // the Pod spec's default terminationGracePeriodSeconds

/**
 * One cluster's workloads (lib/sandbox/kubernetes.ts runs them). A pod's place is a server name
 * (the name it was onboarded under), a Node name, or the cluster's `cloudNode`; a place with no
 * Node yet holds the pod Pending until that Node is Ready, as the scheduler would.
 */
const KubernetesSeedSchema = z.object({
  /** The stand-in for the cluster's EC2 nodes: where replacements run; never a hybrid Node, never billed. */
  cloudNode: z.string(),
  /** A pod of each on every hybrid Node, from the moment the Node exists (a CNI runs before the Node is Ready). */
  daemonSets: z.array(z.object({ namespace: z.string(), name: z.string() })).default([]),
  replicaSets: z
    .array(
      z.object({
        namespace: z.string(),
        name: z.string(),
        labels,
        /** One replica per entry, placed there. */
        pods: z.array(z.string()).min(1),
        terminationGracePeriodSeconds: grace,
        /** From a replica's start to its readiness probe passing. */
        readyAfterSeconds: z.number().int().min(0).default(30),
        emptyDir: z.boolean().default(false),
      }),
    )
    .default([]),
  /** policy/v1 PodDisruptionBudgets: `selector` is matchLabels; one of minAvailable, maxUnavailable. */
  podDisruptionBudgets: z
    .array(
      z
        .object({
          namespace: z.string(),
          name: z.string(),
          selector: z.record(z.string(), z.string()),
          minAvailable: z.number().int().min(0).optional(),
          maxUnavailable: z.number().int().min(0).optional(),
        })
        .refine((b) => (b.minAvailable === undefined) !== (b.maxUnavailable === undefined), {
          message: 'set exactly one of minAvailable and maxUnavailable',
        }),
    )
    .default([]),
  /** Pods no controller owns (nothing replaces them); `mirror`: a static pod's mirror. */
  pods: z
    .array(
      z.object({
        namespace: z.string(),
        name: z.string(),
        node: z.string(),
        labels,
        terminationGracePeriodSeconds: grace,
        emptyDir: z.boolean().default(false),
        mirror: z.boolean().default(false),
      }),
    )
    .default([]),
});
export type KubernetesSeed = z.infer<typeof KubernetesSeedSchema>;

/**
 * The sections the estate reads itself: where it is, the on-prem side, and what several services
 * share (the fleet: SSM's instances and EKS's Nodes; the network: Resolver's, EFS's and EC2's).
 */
const estateSections = {
  account: z.string().regex(/^\d{12}$/),
  region: z.string(),
  /**
   * Servers that joined before the sandbox starts: each has its managed instance and its Node
   * from the first moment, so the nightly sweep has an estate to look at.
   */
  fleet: z
    .array(
      z.object({
        name: z.string(),
        instanceId: z.string().regex(/^mi-[0-9a-f]{17}$/, 'instanceId must look like mi-0123456789abcdef0'),
        cluster: z.string(),
        ip: z.string(),
        platform: z.string(),
        platformVersion: z.string(),
        vcpus: z.number().int().positive(),
        gpus: z.number().int().min(0).default(0),
        joinedDaysAgo: z.number().min(0).default(30),
        /** Hours it has been NotReady; absent: Ready. */
        notReadyForHours: z.number().min(0).optional(),
        pingStatus: z.enum(['Online', 'ConnectionLost']).default('Online'),
        /** Onboarded through this project (its instance carries the project's tags). */
        ours: z.boolean().default(true),
        /** Its Node exists (false: the Node was deleted and the instance is left: an orphan). */
        node: z.boolean().default(true),
        /** The Kubernetes minor version nodeadm installed on it (`1.31`); default the cluster's. */
        kubernetesVersion: z
          .string()
          .regex(/^1\.\d+$/)
          .optional(),
        /**
         * Where its NodeConfig file is; default where onboarding's instructions leave it (the
         * `nodeadm init -c` of lib/onboarding/node-config.ts).
         */
        nodeConfigPath: z.string().optional(),
      }),
    )
    .default([]),
  network: NetworkSeedSchema.default({
    resolverEndpoints: [],
    resolverRules: [],
    fileSystems: [],
    securityGroupRules: [],
    delays: { associateSeconds: 30, disassociateSeconds: 30, updateRuleSeconds: 20, mountTargetSeconds: 90 },
  }),
  /** Names AWS's own resolvers answer for (private hosted zones, service endpoints). */
  awsRecords: z.record(z.string(), z.string()).default({}),
  onPrem: z.object({
    /**
     * How the paths to on-prem hosts behave, for the sweep's TCP probes: latency, jitter and
     * loss (percent). A host not listed does not answer at all.
     */
    links: z
      .array(
        z.object({
          host: z.string(),
          latencyMs: z.number().min(0),
          jitterMs: z.number().min(0).default(0),
          lossPercent: z.number().min(0).max(100).default(0),
        }),
      )
      .default([]),
    /** The on-prem DNS servers the forwarding rules target, and the names they answer for. */
    dnsServers: z.array(z.object({ ip: z.string(), records: z.record(z.string(), z.string()) })).default([]),
    servers: z.array(
      z.object({
        name: z.string(),
        ip: z.string(),
        platform: z.string(),
        platformVersion: z.string(),
        vcpus: z.number().int().positive(),
        gpus: z.number().int().min(0).default(0),
        /**
         * Seconds added to each of the scenario's join timings (registering, the Node appearing,
         * Ready) for this server: its own pace. A server the seed does not name gets 0-40 s from
         * a hash of its name (lib/sandbox/server-profile.ts).
         */
        timelineOffsetSeconds: z.number().int().min(0).default(0),
      }),
    ),
    /**
     * The Kubernetes versions nodeadm can install and upgrade to, by minor version, with the
     * kubelet version each brings (as the Node's `status.nodeInfo.kubeletVersion` shows it): the
     * hybrid nodes release manifest nodeadm reads (https://hybrid-assets.eks.amazonaws.com/manifest.yaml,
     * aws/eks-hybrid internal/aws/source.go). Another version is one a host cannot get.
     */
    releases: z
      .record(
        z.string().regex(/^1\.\d+$/),
        z.string().regex(/^v1\.\d+\.\d+-eks-[0-9a-f]{7}$/, 'a kubelet version looks like v1.31.0-eks-a737599'),
      )
      .default(DEFAULT_RELEASES),
  }),
  scenarios: z.record(z.string(), ScenarioSchema),
  /** Each cluster's workloads, by cluster name. */
  kubernetes: z.record(z.string(), KubernetesSeedSchema).default({}),
};

/** The seed sections one service declares (`seed` in its module under lib/sandbox/services/). */
type SectionsOf<S> = S extends { seed: infer Seed } ? Seed : NoSeed;
/** All of one union's members at once: the sections of every listed service. */
type Every<U> = (U extends unknown ? (u: U) => void : never) extends (all: infer All) => void ? All : never;
type ServiceSections = Every<SectionsOf<(typeof SANDBOX_SERVICES)[number]>>;

/** The sections every listed service declares, in one shape; a section is declared once. */
function serviceSections(): ServiceSections {
  const sections: z.ZodRawShape = {};
  const services: readonly SandboxService[] = SANDBOX_SERVICES;
  for (const service of services) {
    for (const name of Object.keys(service.seed ?? {})) {
      if (name in estateSections || name in sections) {
        throw new Error(`The seed section ${name} of the sandbox's ${service.name} service is declared twice.`);
      }
    }
    Object.assign(sections, service.seed);
  }
  // Each service's sections, as its own declaration types them.
  return sections as ServiceSections;
}

export const EstateSeedSchema = z.object({ ...estateSections, ...serviceSections() });
export type EstateSeed = z.infer<typeof EstateSeedSchema>;

/** Parses and validates the seed file's text; errors name the field. */
export function parseSeed(text: string, source: string): EstateSeed {
  const parsed = EstateSeedSchema.safeParse(parse(text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`The sandbox seed ${source} is invalid: ${problems}`);
  }
  return parsed.data;
}
