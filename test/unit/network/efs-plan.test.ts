import type { ClusterDesiredState } from '#lib/desired-state/schema';
import { allowedNfsCidrs, type EfsObservation, type ObservedSgRule } from '#lib/efs/nfs';
import { efsPlan } from '#lib/network/efs-plan';
import { type Action, emptyPlan, mergePlans, type Plan } from '#lib/network/plan';

const CLUSTER = 'gpu-hybrid-cluster';
const FS = 'fs-0a1b2c3d4e5f60718';
const SG = 'sg-0e5f0a1b2c3d40718';
const VPC_CIDR = '10.0.0.0/16';
const NODE_CIDR = '192.168.0.0/16';
const POD_CIDR = '10.244.0.0/16';

type Efs = NonNullable<ClusterDesiredState['efs']>;

const cluster = (over: Partial<Efs> = {}): ClusterDesiredState => ({
  name: CLUSTER,
  efs: {
    fileSystemId: FS,
    securityGroupId: SG,
    createMissingMountTargets: false,
    podsNatted: true,
    mountOptions: 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2',
    extraCidrs: [],
    ...over,
  },
});

const nfsRule = (id: string, cidr: string, over: Partial<ObservedSgRule> = {}): ObservedSgRule => ({
  id,
  isEgress: false,
  protocol: 'tcp',
  fromPort: 2049,
  toPort: 2049,
  cidr,
  ...over,
});

/** Two AZs, each with a mount target, and a group allowing exactly the VPC and the remote nodes. */
const observation = (over: Partial<EfsObservation> = {}): EfsObservation => ({
  fileSystem: { id: FS, encrypted: true, lifeCycleState: 'available' },
  mountTargets: [
    {
      id: 'fsmt-0a',
      availabilityZone: 'us-east-1a',
      subnetId: 'subnet-0a',
      ipAddress: '10.0.1.10',
      lifeCycleState: 'available',
    },
    {
      id: 'fsmt-0b',
      availabilityZone: 'us-east-1b',
      subnetId: 'subnet-0b',
      ipAddress: '10.0.2.10',
      lifeCycleState: 'available',
    },
  ],
  clusterSubnets: [
    { id: 'subnet-0b', availabilityZone: 'us-east-1b' },
    { id: 'subnet-0a', availabilityZone: 'us-east-1a' },
  ],
  securityGroupRules: [nfsRule('sgr-vpc', VPC_CIDR), nfsRule('sgr-nodes', NODE_CIDR)],
  vpcCidrs: [VPC_CIDR],
  remoteNodeCidrs: [NODE_CIDR],
  remotePodCidrs: [POD_CIDR],
  ...over,
});

const authorize = (cidr: string): Action => ({
  type: 'authorize-nfs',
  resource: `${SG}/${cidr}`,
  cluster: CLUSTER,
  detail: `${cidr} cannot reach NFS on the mount targets: allow TCP 2049 from it`,
  params: { groupId: SG, cidr },
});

const revoke = (ruleId: string, cidr: string, why: RegExp | string = /./): Action => ({
  type: 'revoke-nfs',
  resource: `${SG}/${ruleId}`,
  cluster: CLUSTER,
  detail: expect.stringMatching(why),
  params: { groupId: SG, ruleId, cidr },
});

describe('efsPlan', () => {
  it('plans nothing for a cluster without efs', () => {
    expect(efsPlan({ cluster: { name: CLUSTER }, observed: observation() })).toEqual(emptyPlan());
  });

  it('plans nothing when every AZ has a mount target and the group allows exactly the allowed CIDRs', () => {
    expect(efsPlan({ cluster: cluster(), observed: observation() })).toEqual(emptyPlan());
  });

  describe('mount targets', () => {
    const threeAzs = () =>
      observation({
        clusterSubnets: [
          { id: 'subnet-0a', availabilityZone: 'us-east-1a' },
          { id: 'subnet-0cz', availabilityZone: 'us-east-1c' },
          { id: 'subnet-0b', availabilityZone: 'us-east-1b' },
          { id: 'subnet-0c1', availabilityZone: 'us-east-1c' },
        ],
      });

    it('creates the missing one in the lexically first cluster subnet of its AZ when allowed', () => {
      const result = efsPlan({ cluster: cluster({ createMissingMountTargets: true }), observed: threeAzs() });
      expect(result.findings).toEqual([]);
      expect(result.actions).toEqual([
        {
          type: 'create-mount-target',
          resource: `${FS}@us-east-1c`,
          cluster: CLUSTER,
          detail: 'no mount target in us-east-1c: create one in subnet-0c1',
          params: { fileSystemId: FS, subnetId: 'subnet-0c1', securityGroupId: SG, availabilityZone: 'us-east-1c' },
        },
      ]);
    });

    it('reports the missing one with the fix when creation is not allowed', () => {
      const result = efsPlan({ cluster: cluster(), observed: threeAzs() });
      expect(result.actions).toEqual([]);
      expect(result.findings).toEqual([
        {
          cluster: CLUSTER,
          severity: 'warning',
          resource: `${FS}@us-east-1c`,
          message: `EFS ${FS} has no mount target in us-east-1c, where the cluster has subnet subnet-0c1.`,
          fix: `Set createMissingMountTargets: true for ${CLUSTER}, or create one in subnet-0c1 with ${SG}.`,
        },
      ]);
    });

    it('creates one per missing AZ, in AZ order', () => {
      const result = efsPlan({
        cluster: cluster({ createMissingMountTargets: true }),
        observed: { ...threeAzs(), mountTargets: [] },
      });
      expect(result.actions.map((a) => [a.type, a.params.availabilityZone, a.params.subnetId])).toEqual([
        ['create-mount-target', 'us-east-1a', 'subnet-0a'],
        ['create-mount-target', 'us-east-1b', 'subnet-0b'],
        ['create-mount-target', 'us-east-1c', 'subnet-0c1'],
      ]);
    });

    it('wants only its own AZ for a One Zone file system', () => {
      const observed = observation({
        fileSystem: { id: FS, encrypted: true, lifeCycleState: 'available', oneZone: 'us-east-1b' },
        mountTargets: [],
      });
      const result = efsPlan({ cluster: cluster({ createMissingMountTargets: true }), observed });
      expect(result.actions).toEqual([
        {
          type: 'create-mount-target',
          resource: `${FS}@us-east-1b`,
          cluster: CLUSTER,
          detail: expect.any(String),
          params: { fileSystemId: FS, subnetId: 'subnet-0b', securityGroupId: SG, availabilityZone: 'us-east-1b' },
        },
      ]);
      expect(result.findings).toEqual([]);
    });

    it("reports a mount target in a subnet that is not the cluster's as a conflict, and plans nothing for its AZ", () => {
      const observed = observation({
        mountTargets: [
          { id: 'fsmt-0a', availabilityZone: 'us-east-1a', subnetId: 'subnet-0other', lifeCycleState: 'available' },
          ...observation().mountTargets.slice(1),
        ],
      });
      const result = efsPlan({ cluster: cluster({ createMissingMountTargets: true }), observed });
      expect(result.actions).toEqual([]);
      expect(result.conflicts).toEqual([
        {
          cluster: CLUSTER,
          resource: 'fsmt-0a',
          message:
            'Mount target fsmt-0a in us-east-1a is in subnet subnet-0other, which is not a cluster subnet; it was left as it is.',
          fix: expect.stringContaining('cluster subnet of that AZ'),
        },
      ]);
    });

    it('reports a mount target in an AZ without cluster subnets as a conflict and never deletes it', () => {
      const observed = observation({
        mountTargets: [
          ...observation().mountTargets,
          { id: 'fsmt-0d', availabilityZone: 'us-east-1d', subnetId: 'subnet-0d', lifeCycleState: 'available' },
        ],
      });
      const result = efsPlan({ cluster: cluster({ createMissingMountTargets: true }), observed });
      expect(result.actions).toEqual([]);
      expect(result.conflicts).toEqual([
        {
          cluster: CLUSTER,
          resource: 'fsmt-0d',
          message: 'Mount target fsmt-0d is in us-east-1d, where the cluster has no subnet; it was left as it is.',
          fix: expect.stringContaining('never deletes mount targets'),
        },
      ]);
    });
  });

  it('warns about a file system that is not encrypted at rest', () => {
    const observed = observation({ fileSystem: { id: FS, encrypted: false, lifeCycleState: 'available' } });
    const result = efsPlan({ cluster: cluster(), observed });
    expect(result.actions).toEqual([]);
    expect(result.findings).toEqual([
      {
        cluster: CLUSTER,
        severity: 'warning',
        resource: FS,
        message: `EFS ${FS} is not encrypted at rest.`,
        fix: expect.stringContaining('create an encrypted file system'),
      },
    ]);
  });

  describe('allowedNfsCidrs', () => {
    it('allows the VPC and the remote nodes, not the pods, when pods are NATed', () => {
      expect(allowedNfsCidrs(cluster().efs as Efs, observation())).toEqual([VPC_CIDR, NODE_CIDR]);
    });

    it('allows the remote pods too when they are not NATed', () => {
      expect(allowedNfsCidrs(cluster({ podsNatted: false }).efs as Efs, observation())).toEqual([
        VPC_CIDR,
        NODE_CIDR,
        POD_CIDR,
      ]);
    });

    it('adds the extra CIDRs once each', () => {
      const efs = cluster({ extraCidrs: ['172.16.5.10/32', NODE_CIDR] }).efs as Efs;
      expect(allowedNfsCidrs(efs, observation())).toEqual([VPC_CIDR, NODE_CIDR, '172.16.5.10/32']);
    });
  });

  describe('the mount-target security group', () => {
    const planRules = (rules: ObservedSgRule[], efs: Partial<Efs> = {}) =>
      efsPlan({ cluster: cluster(efs), observed: observation({ securityGroupRules: rules }) }).actions;

    it('authorizes each allowed CIDR that has no rule', () => {
      expect(planRules([], { podsNatted: false, extraCidrs: ['172.16.5.10/32'] })).toEqual([
        authorize(VPC_CIDR),
        authorize(NODE_CIDR),
        authorize(POD_CIDR),
        authorize('172.16.5.10/32'),
      ]);
    });

    it('authorizes the pod CIDR when pods stop being NATed', () => {
      expect(planRules(observation().securityGroupRules, { podsNatted: false })).toEqual([authorize(POD_CIDR)]);
    });

    it('revokes the pod CIDR when pods are NATed', () => {
      const rules = [...observation().securityGroupRules, nfsRule('sgr-pods', POD_CIDR)];
      expect(planRules(rules)).toEqual([revoke('sgr-pods', POD_CIDR, 'is not an allowed source')]);
    });

    it('revokes 0.0.0.0/0 on 2049', () => {
      const rules = [...observation().securityGroupRules, nfsRule('sgr-world', '0.0.0.0/0')];
      expect(planRules(rules)).toEqual([
        revoke('sgr-world', '0.0.0.0/0', /^sgr-world lets 0\.0\.0\.0\/0 .* is not an allowed source/),
      ]);
    });

    it('authorizes the exact allowed CIDR, then revokes a wider block that merely contains it', () => {
      const rules = [nfsRule('sgr-vpc', VPC_CIDR), nfsRule('sgr-wide', '192.0.0.0/8')];
      expect(planRules(rules)).toEqual([
        authorize(NODE_CIDR),
        revoke('sgr-wide', '192.0.0.0/8', 'is not an allowed source'),
      ]);
    });

    it('authorizes an allowed CIDR on 2049 alone, then revokes it open on all ports', () => {
      const rules = [nfsRule('sgr-vpc', VPC_CIDR), nfsRule('sgr-nodes-all', NODE_CIDR, { fromPort: 0, toPort: 65535 })];
      expect(planRules(rules)).toEqual([
        authorize(NODE_CIDR),
        revoke('sgr-nodes-all', NODE_CIDR, 'opens more ports than 2049'),
      ]);
    });

    it('revokes a tcp rule without ports (all of them) from an allowed CIDR', () => {
      const rules = [
        nfsRule('sgr-vpc', VPC_CIDR),
        nfsRule('sgr-nodes', NODE_CIDR),
        nfsRule('sgr-vpc-all', VPC_CIDR, { protocol: '6', fromPort: undefined, toPort: undefined }),
      ];
      expect(planRules(rules)).toEqual([revoke('sgr-vpc-all', VPC_CIDR, 'opens more ports than 2049')]);
    });

    it('revokes all-traffic (protocol -1) from a CIDR that is not allowed', () => {
      const rules = [
        ...observation().securityGroupRules,
        nfsRule('sgr-any', '203.0.113.0/24', { protocol: '-1', fromPort: undefined, toPort: undefined }),
      ];
      expect(planRules(rules)).toEqual([revoke('sgr-any', '203.0.113.0/24', 'is not an allowed source')]);
    });

    it('ignores egress rules, other ports, other protocols and rules without a CIDR', () => {
      const rules = [
        ...observation().securityGroupRules,
        nfsRule('sgr-egress', '0.0.0.0/0', { isEgress: true, protocol: '-1' }),
        nfsRule('sgr-https', '0.0.0.0/0', { fromPort: 443, toPort: 443 }),
        nfsRule('sgr-below', '0.0.0.0/0', { fromPort: 1, toPort: 2048 }),
        nfsRule('sgr-above', '0.0.0.0/0', { fromPort: 2050, toPort: 65535 }),
        nfsRule('sgr-udp', '0.0.0.0/0', { protocol: 'udp' }),
        { id: 'sgr-from-group', isEgress: false, protocol: 'tcp', fromPort: 2049, toPort: 2049 },
      ];
      expect(planRules(rules)).toEqual([]);
    });

    it('accepts protocol "6" as TCP for an exact rule', () => {
      const rules = [
        nfsRule('sgr-vpc', VPC_CIDR, { protocol: '6' }),
        nfsRule('sgr-nodes', NODE_CIDR, { protocol: '6' }),
      ];
      expect(planRules(rules)).toEqual([]);
    });

    it('authorizes before it revokes (access is never cut in between), each rule once', () => {
      const rules = [
        nfsRule('sgr-world', '0.0.0.0/0'),
        nfsRule('sgr-any', '198.51.100.0/24', { protocol: '-1' }),
        nfsRule('sgr-vpc', VPC_CIDR),
      ];
      expect(planRules(rules).map((a) => [a.type, a.resource])).toEqual([
        ['authorize-nfs', `${SG}/${NODE_CIDR}`],
        ['revoke-nfs', `${SG}/sgr-world`],
        ['revoke-nfs', `${SG}/sgr-any`],
      ]);
    });
  });
});

describe('mergePlans', () => {
  const action = (type: Action['type'], resource: string, after?: number): Action => ({
    type,
    resource,
    cluster: CLUSTER,
    detail: resource,
    params: {},
    ...(after === undefined ? {} : { after }),
  });

  it('shifts each plan’s `after` indexes past the actions before it', () => {
    const first: Plan = {
      actions: [action('create-rule', 'a.example'), action('associate-rule', 'a.example@vpc', 0)],
      conflicts: [{ cluster: CLUSTER, resource: 'r1', message: 'm1', fix: 'f1' }],
      findings: [],
    };
    const second: Plan = {
      actions: [
        action('disassociate-rule', 'b.example@vpc'),
        action('create-rule', 'c.example'),
        action('delete-rule', 'b.example', 0),
        action('associate-rule', 'c.example@vpc', 1),
      ],
      conflicts: [],
      findings: [{ cluster: CLUSTER, severity: 'warning', resource: FS, message: 'm2' }],
    };
    const third: Plan = { actions: [action('create-mount-target', `${FS}@us-east-1a`)], conflicts: [], findings: [] };

    const merged = mergePlans(first, emptyPlan(), second, third);

    expect(merged.actions.map((a) => [a.resource, a.after])).toEqual([
      ['a.example', undefined],
      ['a.example@vpc', 0],
      ['b.example@vpc', undefined],
      ['c.example', undefined],
      ['b.example', 2],
      ['c.example@vpc', 3],
      [`${FS}@us-east-1a`, undefined],
    ]);
    for (const a of merged.actions) {
      if (a.after !== undefined) expect(merged.actions[a.after]?.resource.split('@')[0]).toBe(a.resource.split('@')[0]);
    }
    expect(merged.conflicts).toEqual(first.conflicts);
    expect(merged.findings).toEqual(second.findings);
  });

  it('leaves its inputs unchanged', () => {
    const second: Plan = {
      actions: [action('create-rule', 'x'), action('associate-rule', 'x@vpc', 0)],
      conflicts: [],
      findings: [],
    };
    mergePlans({ actions: [action('create-rule', 'y')], conflicts: [], findings: [] }, second);
    expect(second.actions[1]?.after).toBe(0);
  });

  it('merges nothing into an empty plan', () => {
    expect(mergePlans()).toEqual(emptyPlan());
  });
});
