import { type ComplianceInput, complianceFindings, osIdOf } from '#lib/sweep/compliance';

const ARN = 'arn:aws:eks:ap-northeast-2:111122223333:cluster/gpu-hybrid-cluster';
const ours = (requestId?: string) => [
  { Key: 'EKSClusterARN', Value: ARN },
  ...(requestId ? [{ Key: 'hybridops:request-id', Value: requestId }] : []),
];
const NOW = new Date('2026-11-22T18:00:00Z');

/** A compliant estate: one node, its instance, its used activation, encrypted EFS, tight NFS. */
function estate(): ComplianceInput {
  return {
    cluster: {
      name: 'gpu-hybrid-cluster',
      arn: ARN,
      vpcCidrs: ['10.0.0.0/16'],
      serviceCidr: '10.96.0.0/16',
      remoteNodeCidrs: ['192.168.0.0/16'],
      remotePodCidrs: ['10.244.0.0/16'],
    },
    instances: [
      {
        instanceId: 'mi-0aaaaaaaaaaaaaaa1',
        platformName: 'Ubuntu',
        platformVersion: '22.04',
        ours: true,
      },
    ],
    activations: [
      {
        id: 'act-used',
        expired: false,
        expirationDate: '2026-11-30T00:00:00Z',
        registrationsCount: 1,
        registrationLimit: 1,
        tags: ours('gpu-node-01-abc'),
      },
    ],
    nodes: [{ name: 'mi-0aaaaaaaaaaaaaaa1', internalIps: ['192.168.10.21'] }],
    efs: {
      fileSystemId: 'fs-0a1b2c3d4e5f60718',
      encrypted: true,
      securityGroupId: 'sg-0e5f0a1b2c3d40718',
      rules: [{ id: 'sgr-1', isEgress: false, protocol: 'tcp', fromPort: 2049, toPort: 2049, cidr: '192.168.0.0/16' }],
      allowedCidrs: ['10.0.0.0/16', '192.168.0.0/16'],
    },
    insights: [],
    now: NOW,
  };
}
const ids = (input: ComplianceInput) => complianceFindings(input).map((f) => f.id);

describe('complianceFindings', () => {
  it('finds nothing in a compliant estate', () => {
    expect(complianceFindings(estate())).toEqual([]);
  });

  it('finds a managed instance on an unsupported OS', () => {
    const input = estate();
    const instance = input.instances[0];
    if (instance) Object.assign(instance, { platformName: 'Rocky Linux', platformVersion: '9.3' });
    const [finding] = complianceFindings(input);
    expect(finding).toMatchObject({
      id: 'compliance:unsupported-os:mi-0aaaaaaaaaaaaaaa1',
      severity: 'warning',
      message: expect.stringContaining('Rocky Linux is not supported'),
    });
  });

  it('finds activations expired unused, expiring unused, and with a registration limit above 1', () => {
    const input = estate();
    input.activations.push(
      {
        id: 'act-old',
        expired: true,
        expirationDate: '2026-11-20T00:00:00Z',
        registrationsCount: 0,
        registrationLimit: 1,
        tags: ours('r1'),
      },
      {
        id: 'act-soon',
        expired: false,
        expirationDate: '2026-11-23T06:00:00Z',
        registrationsCount: 0,
        registrationLimit: 1,
        tags: ours('r2'),
      },
      {
        id: 'act-many',
        expired: false,
        expirationDate: '2026-12-20T00:00:00Z',
        registrationsCount: 3,
        registrationLimit: 10,
        tags: ours(),
      },
    );
    expect(ids(input)).toEqual([
      'compliance:activation-expired-unused:act-old',
      'compliance:activation-expiring-unused:act-soon',
      'compliance:activation-multi-use:act-many',
    ]);
  });

  it('ignores activations and instances of other clusters', () => {
    const input = estate();
    input.activations.push({
      id: 'act-other',
      expired: true,
      expirationDate: '2026-11-20T00:00:00Z',
      registrationsCount: 0,
      registrationLimit: 5,
      tags: [{ Key: 'EKSClusterARN', Value: 'arn:aws:eks:ap-northeast-2:111122223333:cluster/other' }],
    });
    expect(ids(input)).toEqual([]);
  });

  it('finds orphans both ways', () => {
    const input = estate();
    input.instances.push({
      instanceId: 'mi-0bbbbbbbbbbbbbbb2',
      platformName: 'Ubuntu',
      name: 'gpu-node-09',
      platformVersion: '22.04',
      pingStatus: 'ConnectionLost',
      ours: true,
    });
    input.nodes.push({ name: 'mi-0ccccccccccccccc3', internalIps: ['192.168.10.33'] });
    const findings = complianceFindings(input);
    expect(findings.map((f) => f.id)).toEqual([
      'compliance:orphan-instance:mi-0bbbbbbbbbbbbbbb2',
      'compliance:node-without-instance:mi-0ccccccccccccccc3',
    ]);
    expect(findings[0]?.message).toBe(
      'Managed instance mi-0bbbbbbbbbbbbbbb2 (gpu-node-09), registered by this project for gpu-hybrid-cluster, is no Kubernetes Node of it (SSM agent ConnectionLost).',
    );
  });

  it('finds a Node IP outside the remote node networks, and overlapping remote CIDRs', () => {
    const input = estate();
    input.nodes[0] = { name: 'mi-0aaaaaaaaaaaaaaa1', internalIps: ['10.0.5.5'] };
    input.cluster.remotePodCidrs = ['10.0.128.0/17'];
    const findings = complianceFindings(input);
    expect(findings.map((f) => [f.id, f.severity])).toEqual([
      ['compliance:node-ip-outside-remote-network:mi-0aaaaaaaaaaaaaaa1', 'critical'],
      ['compliance:remote-network:gpu-hybrid-cluster', 'critical'],
    ]);
    expect(findings[1]?.message).toContain('overlaps the VPC CIDR 10.0.0.0/16');
  });

  it('finds EFS without encryption at rest and NFS open wider than the remote CIDRs', () => {
    const input = estate();
    if (input.efs) {
      input.efs.encrypted = false;
      input.efs.rules.push({
        id: 'sgr-wide',
        isEgress: false,
        protocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
        cidr: '0.0.0.0/0',
      });
    }
    expect(ids(input)).toEqual([
      'compliance:efs-unencrypted:fs-0a1b2c3d4e5f60718',
      'compliance:nfs-open:sg-0e5f0a1b2c3d40718:sgr-wide',
    ]);
  });

  it('passes through EKS insights about hybrid nodes that are not passing', () => {
    const input = estate();
    input.insights = [
      { id: 'i-1', name: 'Hybrid nodes version skew', status: 'WARNING', recommendation: 'Upgrade the kubelets.' },
      { id: 'i-2', name: 'Deprecated APIs', status: 'ERROR' },
      { id: 'i-3', name: 'Hybrid nodes networking', status: 'PASSING' },
      { id: 'i-4', name: 'Remote network reachability', category: 'MISCONFIGURATION', status: 'ERROR' },
    ];
    const findings = complianceFindings(input);
    expect(findings.map((f) => [f.id, f.severity, f.fix])).toEqual([
      ['compliance:insight:i-1', 'warning', 'Upgrade the kubelets.'],
      ['compliance:insight:i-4', 'critical', 'See the insight in the EKS console (Cluster insights).'],
    ]);
  });

  it.each([
    ['Ubuntu', '22.04', 'ubuntu-22.04'],
    ['Ubuntu', '24.04.1', 'ubuntu-24.04'],
    ['Red Hat Enterprise Linux', '9.4', 'rhel-9'],
    ['Amazon Linux', '2023', 'al2023'],
    ['Rocky Linux', '9.3', 'rocky-9'],
  ])('maps SSM platform %s %s to %s', (name, version, id) => {
    expect(osIdOf(name, version)).toBe(id);
  });
});

describe('the lost-GPU finding', () => {
  /** The compliant estate's node as a 224-vCPU GPU node (gpu-node-12) with these GPUs. */
  function gpuNode(capacity: number, allocatable: number): ComplianceInput {
    const input = estate();
    input.nodes = [
      { name: 'mi-0aaaaaaaaaaaaaaa1', internalIps: ['192.168.10.21'], vcpus: 224, gpus: { capacity, allocatable } },
    ];
    input.instances[0] = { ...input.instances[0]!, name: 'gpu-node-12' };
    input.pricePerVcpuHour = 0.1099;
    return input;
  }

  it('is critical for a node with fewer allocatable GPUs than capacity: the GPUs lost and the cost a day', () => {
    expect(complianceFindings(gpuNode(8, 7))).toEqual([
      {
        id: 'compliance:gpu-lost:mi-0aaaaaaaaaaaaaaa1',
        check: 'compliance',
        cluster: 'gpu-hybrid-cluster',
        severity: 'critical',
        resource: 'mi-0aaaaaaaaaaaaaaa1',
        message:
          'Node mi-0aaaaaaaaaaaaaaa1 (gpu-node-12) has 7 of its 8 GPUs allocatable: 1 GPU lost, while the node bills 590.82 USD per day.',
        evidence:
          'status.capacity nvidia.com/gpu 8, status.allocatable nvidia.com/gpu 7; 224 vCPU x 0.1099 USD per vCPU-hour x 24 h = 590.82 USD.',
        fix: expect.stringContaining('sudo dmesg -T | grep -i xid'),
      },
    ]);
    const [found] = complianceFindings(gpuNode(8, 7));
    expect(found?.fix).toContain('nvidia-smi');
    expect(found?.fix).toContain('kubectl logs -n <namespace> <pod>');
    expect(found?.fix).toContain('DELETE /nodes/mi-0aaaaaaaaaaaaaaa1');
  });

  it('counts every GPU lost when allocatable has none (the plugin gone)', () => {
    const [found] = complianceFindings(gpuNode(8, 0));
    expect(found?.message).toContain('has none of its 8 GPUs allocatable: all 8 lost');
    expect(found?.fix).toContain('check that its DaemonSet runs on the node');
  });

  it('uses the configured rate for the cost', () => {
    const input = gpuNode(8, 6);
    input.pricePerVcpuHour = 0.2;
    expect(complianceFindings(input)[0]?.message).toContain('2 GPUs lost, while the node bills 1,075.20 USD per day');
  });

  it('finds nothing when every GPU is allocatable, or on a node without GPUs', () => {
    expect(complianceFindings(gpuNode(8, 8))).toEqual([]);
    expect(complianceFindings(estate())).toEqual([]);
  });
});
