import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  EKSServiceException,
  ListAccessEntriesCommand,
  type ListAccessEntriesCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ClusterNotFoundError, HybridAccessEntryMissingError } from '#lib/errors';
import { describeClusterFacts } from '#lib/cluster/facts';
import { remoteNetworkProblems } from '#lib/cluster/remote-network';
import { assertHybridAccessEntry, clusterFitProblems } from '#lib/onboarding/cluster-fit';
import type { OnboardingRequest } from '#lib/onboarding/request';
import {
  ACCOUNT,
  CLUSTER,
  clusterFacts,
  cpuRequestBody,
  eksCluster,
  gpuRequestBody,
  parseRequest,
  ROLE_ARN,
  ROLE_NAME,
  seedVpcs,
  VPC_ID,
} from '#test/helpers/onboarding-fixtures';

const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const clients = () => ({
  eks: new EKSClient({ region: 'ap-northeast-2' }),
  ec2: new EC2Client({ region: 'ap-northeast-2' }),
});

describe('describeClusterFacts', () => {
  beforeEach(() => {
    eksMock.reset();
    ec2Mock.reset();
  });

  it('reads the cluster and only the associated CIDR blocks of its VPC', async () => {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: eksCluster() });
    ec2Mock.on(DescribeVpcsCommand).resolves({
      Vpcs: [
        {
          VpcId: VPC_ID,
          CidrBlockAssociationSet: [
            { CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } },
            { CidrBlock: '10.1.0.0/16', CidrBlockState: { State: 'disassociated' } },
            { CidrBlock: '10.2.0.0/16', CidrBlockState: { State: 'associating' } },
            { CidrBlock: '100.64.0.0/16', CidrBlockState: { State: 'associated' } },
          ],
        },
      ],
    });

    const facts = await describeClusterFacts(clients(), CLUSTER);

    expect(eksMock.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input)).toEqual([
      { name: 'gpu-hybrid-cluster' },
    ]);
    expect(ec2Mock.commandCalls(DescribeVpcsCommand).map((c) => c.args[0].input)).toEqual([
      { VpcIds: ['vpc-0a1b2c3d4e5f60718'] },
    ]);
    expect(facts).toEqual(clusterFacts({ vpcCidrs: ['10.0.0.0/16', '100.64.0.0/16'] }));
  });

  it('gathers the CIDRs of every remote node and pod network', async () => {
    eksMock.on(DescribeClusterCommand).resolves({
      cluster: eksCluster({
        remoteNetworkConfig: {
          remoteNodeNetworks: [{ cidrs: ['192.168.0.0/17'] }, { cidrs: ['192.168.128.0/17', '172.16.0.0/16'] }],
          remotePodNetworks: [{ cidrs: ['10.244.0.0/16'] }, { cidrs: ['10.245.0.0/16'] }],
        },
      }),
    });
    ec2Mock.on(DescribeVpcsCommand).resolves(seedVpcs());

    const facts = await describeClusterFacts(clients(), CLUSTER);

    expect(facts.remoteNodeCidrs).toEqual(['192.168.0.0/17', '192.168.128.0/17', '172.16.0.0/16']);
    expect(facts.remotePodCidrs).toEqual(['10.244.0.0/16', '10.245.0.0/16']);
  });

  it('turns ResourceNotFoundException into ClusterNotFoundError and reads no VPC', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .rejects(new ResourceNotFoundException({ $metadata: {}, message: 'No cluster found for name: nope.' }));

    const attempt = describeClusterFacts(clients(), 'nope');

    await expect(attempt).rejects.toBeInstanceOf(ClusterNotFoundError);
    await expect(attempt).rejects.toThrow("EKS cluster 'nope' does not exist in this account and Region.");
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeVpcsCommand);
  });

  it('passes on other EKS errors as they are', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .rejects(
        new EKSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }),
      );

    await expect(describeClusterFacts(clients(), CLUSTER)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('remoteNetworkProblems', () => {
  it('finds none in the seed reference architecture', () => {
    expect(remoteNetworkProblems(clusterFacts())).toEqual([]);
  });

  it.each([
    ['100.64.0.0/16', 'carrier-grade NAT space'],
    ['172.32.0.0/16', 'just past 172.16/12'],
    ['192.168.0.0/15', 'a block that straddles 192.168/16'],
  ])('reports a remote node CIDR outside RFC 1918: %s (%s)', (cidr) => {
    expect(remoteNetworkProblems(clusterFacts({ remoteNodeCidrs: [cidr] }))).toEqual([
      `remote CIDR ${cidr} is not inside RFC 1918 (10/8, 172.16/12, 192.168/16)`,
    ]);
  });

  it('reports a remote pod CIDR that overlaps the VPC', () => {
    expect(remoteNetworkProblems(clusterFacts({ remotePodCidrs: ['10.0.128.0/17'] }))).toEqual([
      'remote CIDR 10.0.128.0/17 overlaps the VPC CIDR 10.0.0.0/16',
    ]);
  });

  it('checks every VPC CIDR, not just the first', () => {
    const facts = clusterFacts({ vpcCidrs: ['10.0.0.0/16', '192.168.200.0/24'] });
    expect(remoteNetworkProblems(facts)).toEqual(['remote CIDR 192.168.0.0/16 overlaps the VPC CIDR 192.168.200.0/24']);
  });

  it('reports a remote CIDR that overlaps the service CIDR', () => {
    expect(remoteNetworkProblems(clusterFacts({ remotePodCidrs: ['10.96.0.0/12'] }))).toEqual([
      'remote CIDR 10.96.0.0/12 overlaps the service CIDR 10.96.0.0/16',
    ]);
  });

  it('reports remote CIDRs that overlap each other, once per pair', () => {
    const facts = clusterFacts({ remoteNodeCidrs: ['192.168.0.0/16'], remotePodCidrs: ['192.168.100.0/24'] });
    expect(remoteNetworkProblems(facts)).toEqual(['remote CIDRs 192.168.0.0/16 and 192.168.100.0/24 overlap']);
  });

  it('lists every problem', () => {
    const facts = clusterFacts({ remoteNodeCidrs: ['100.64.0.0/16', '10.0.0.0/24'], remotePodCidrs: ['10.0.0.0/25'] });
    expect(remoteNetworkProblems(facts)).toEqual([
      'remote CIDR 100.64.0.0/16 is not inside RFC 1918 (10/8, 172.16/12, 192.168/16)',
      'remote CIDR 10.0.0.0/24 overlaps the VPC CIDR 10.0.0.0/16',
      'remote CIDRs 10.0.0.0/24 and 10.0.0.0/25 overlap',
      'remote CIDR 10.0.0.0/25 overlaps the VPC CIDR 10.0.0.0/16',
    ]);
  });
});

describe('clusterFitProblems', () => {
  const names = (request: OnboardingRequest, facts = clusterFacts()) =>
    clusterFitProblems(request, facts).map((p) => p.name);

  it('finds none for the seed GPU node in the seed reference architecture', () => {
    expect(clusterFitProblems(parseRequest(gpuRequestBody()), clusterFacts())).toEqual([]);
    expect(clusterFitProblems(parseRequest(cpuRequestBody()), clusterFacts())).toEqual([]);
  });

  it('ClusterNotActiveError: a cluster that is not ACTIVE', () => {
    const [problem, ...rest] = clusterFitProblems(parseRequest(), clusterFacts({ status: 'UPDATING' }));
    expect(rest).toEqual([]);
    expect(problem?.name).toBe('ClusterNotActiveError');
    expect(problem?.message).toBe(
      'Cluster gpu-hybrid-cluster is UPDATING, not ACTIVE. Fix: Wait until the cluster is ACTIVE (aws eks describe-cluster), then submit again.',
    );
  });

  it('RemoteNetworkNotConfiguredError: no remote node networks, and no further network checks', () => {
    const request = parseRequest({ ...gpuRequestBody(), node: { ...gpuRequestBody().node, ip: '172.16.5.10' } });
    expect(names(request, clusterFacts({ remoteNodeCidrs: [], remotePodCidrs: [] }))).toEqual([
      'RemoteNetworkNotConfiguredError',
    ]);
  });

  it('RemoteNetworkInvalidError: the cluster remote network itself is wrong', () => {
    const [problem] = clusterFitProblems(
      parseRequest(),
      clusterFacts({ remotePodCidrs: ['10.0.0.0/16', '10.244.0.0/16'] }),
    );
    expect(problem?.name).toBe('RemoteNetworkInvalidError');
    expect(problem?.message).toContain('remote CIDR 10.0.0.0/16 overlaps the VPC CIDR 10.0.0.0/16');
  });

  it('NodeIpOutsideRemoteNodeNetworkError: the node IP is in no remote node CIDR', () => {
    const request = parseRequest({ ...gpuRequestBody(), node: { ...gpuRequestBody().node, ip: '172.16.5.10' } });
    const [problem, ...rest] = clusterFitProblems(request, clusterFacts());
    expect(rest).toEqual([]);
    expect(problem?.name).toBe('NodeIpOutsideRemoteNodeNetworkError');
    expect(problem?.message).toContain(
      'Node IP 172.16.5.10 is outside the remote node networks of gpu-hybrid-cluster (192.168.0.0/16).',
    );
  });

  it('PodCidrOutsideRemotePodNetworkError: the pod CIDR is in no remote pod network', () => {
    const request = parseRequest({ ...gpuRequestBody(), node: { ...gpuRequestBody().node, podCidr: '10.245.0.0/24' } });
    expect(names(request)).toEqual(['PodCidrOutsideRemotePodNetworkError']);
  });

  it('PodCidrOutsideRemotePodNetworkError: a pod CIDR only partly inside a remote pod network', () => {
    const request = parseRequest({ ...gpuRequestBody(), node: { ...gpuRequestBody().node, podCidr: '10.244.0.0/15' } });
    expect(names(request)).toEqual(['PodCidrOutsideRemotePodNetworkError']);
  });

  it('PodCidrOutsideRemotePodNetworkError: a pod CIDR when the cluster has no remote pod network', () => {
    const [problem] = clusterFitProblems(parseRequest(), clusterFacts({ remotePodCidrs: [] }));
    expect(problem?.name).toBe('PodCidrOutsideRemotePodNetworkError');
    expect(problem?.message).toContain('(none configured)');
  });

  it.each([
    ['1.34', 'newer than the control plane'],
    ['1.29', 'four minors older'],
    ['2.33', 'another major'],
  ])('KubernetesVersionSkewError: kubelet %s (%s) on a 1.33 cluster', (version) => {
    const [problem, ...rest] = clusterFitProblems(
      parseRequest({ ...gpuRequestBody(), kubernetesVersion: version }),
      clusterFacts(),
    );
    expect(rest).toEqual([]);
    expect(problem?.name).toBe('KubernetesVersionSkewError');
    expect(problem?.fix).toBe('Request kubernetesVersion 1.33 or omit it.');
  });

  it.each(['1.30', '1.33'])('accepts kubelet %s on a 1.33 cluster', (version) => {
    expect(names(parseRequest({ ...gpuRequestBody(), kubernetesVersion: version }))).toEqual([]);
  });

  it('UnsupportedOperatingSystemError: an OS that slipped past the request schema', () => {
    const request = parseRequest();
    request.node.os = 'rocky-9';
    const [problem, ...rest] = clusterFitProblems(request, clusterFacts());
    expect(rest).toEqual([]);
    expect(problem?.name).toBe('UnsupportedOperatingSystemError');
    expect(problem?.message).toContain('Rocky Linux is not supported');
  });

  it('lists every problem, not just the first', () => {
    const request = parseRequest({
      ...gpuRequestBody(),
      node: { ...gpuRequestBody().node, ip: '172.16.5.10', podCidr: '10.245.0.0/24' },
      kubernetesVersion: '1.34',
    });
    expect(names(request, clusterFacts({ status: 'CREATING' }))).toEqual([
      'ClusterNotActiveError',
      'NodeIpOutsideRemoteNodeNetworkError',
      'PodCidrOutsideRemotePodNetworkError',
      'KubernetesVersionSkewError',
    ]);
  });
});

describe('assertHybridAccessEntry', () => {
  beforeEach(() => eksMock.reset());
  const eks = () => new EKSClient({ region: 'ap-northeast-2' });

  /** Answers ListAccessEntries page by page, recording each request as it was sent. */
  function pages(...entries: string[][]) {
    const seen: ListAccessEntriesCommandInput[] = [];
    let page = 0;
    eksMock.on(ListAccessEntriesCommand).callsFake((input: ListAccessEntriesCommandInput) => {
      seen.push({ ...input });
      const index = page++;
      return { accessEntries: entries[index], nextToken: index + 1 < entries.length ? `page-${index + 2}` : undefined };
    });
    return seen;
  }
  const describedPrincipals = () =>
    eksMock.commandCalls(DescribeAccessEntryCommand).map((c) => c.args[0].input.principalArn);

  it('follows nextToken across pages and accepts a HYBRID_LINUX entry', async () => {
    const seen = pages(
      [`arn:aws:iam::${ACCOUNT}:role/platform-admin`, `arn:aws:iam::${ACCOUNT}:user/alice`],
      [`arn:aws:iam::${ACCOUNT}:role/ci-deployer`, ROLE_ARN],
    );
    eksMock
      .on(DescribeAccessEntryCommand, { principalArn: ROLE_ARN })
      .resolves({ accessEntry: { principalArn: ROLE_ARN, type: 'HYBRID_LINUX' } });

    await expect(assertHybridAccessEntry(eks(), clusterFacts(), ROLE_NAME)).resolves.toEqual({
      principalArn: ROLE_ARN,
    });

    expect(seen).toEqual([{ clusterName: CLUSTER }, { clusterName: CLUSTER, nextToken: 'page-2' }]);
    expect(eksMock.commandCalls(DescribeAccessEntryCommand).map((c) => c.args[0].input)).toEqual([
      { clusterName: CLUSTER, principalArn: ROLE_ARN },
    ]);
  });

  it('rejects an entry of type STANDARD', async () => {
    pages([ROLE_ARN]);
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: ROLE_ARN, type: 'STANDARD' } });

    const attempt = assertHybridAccessEntry(eks(), clusterFacts(), ROLE_NAME);

    await expect(attempt).rejects.toBeInstanceOf(HybridAccessEntryMissingError);
    await expect(attempt).rejects.toThrow(
      'The access entry for role AmazonEKSHybridNodesRole in gpu-hybrid-cluster is not of type HYBRID_LINUX.',
    );
  });

  it('reports a missing entry with the command that creates it, describing nothing', async () => {
    pages(
      [`arn:aws:iam::${ACCOUNT}:role/platform-admin`],
      [`arn:aws:iam::${ACCOUNT}:role/NotAmazonEKSHybridNodesRole`],
    );

    const attempt = assertHybridAccessEntry(eks(), clusterFacts(), ROLE_NAME);

    await expect(attempt).rejects.toBeInstanceOf(HybridAccessEntryMissingError);
    await expect(attempt).rejects.toMatchObject({
      fix: `Create it: aws eks create-access-entry --cluster-name gpu-hybrid-cluster --principal-arn ${ROLE_ARN} --type HYBRID_LINUX`,
    });
    expect(describedPrincipals()).toEqual([]);
  });

  it('does not take an IAM user of the same name for the role', async () => {
    pages([`arn:aws:iam::${ACCOUNT}:user/${ROLE_NAME}`]);

    await expect(assertHybridAccessEntry(eks(), clusterFacts(), ROLE_NAME)).rejects.toBeInstanceOf(
      HybridAccessEntryMissingError,
    );
    expect(describedPrincipals()).toEqual([]);
  });

  it('fails a CONFIG_MAP cluster without listing access entries', async () => {
    const attempt = assertHybridAccessEntry(eks(), clusterFacts({ authenticationMode: 'CONFIG_MAP' }), ROLE_NAME);

    await expect(attempt).rejects.toBeInstanceOf(HybridAccessEntryMissingError);
    await expect(attempt).rejects.toThrow('uses authentication mode CONFIG_MAP');
    expect(eksMock).not.toHaveReceivedCommand(ListAccessEntriesCommand);
  });

  it('matches a role configured with a path against an entry written without it', async () => {
    pages([ROLE_ARN]);
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: ROLE_ARN, type: 'HYBRID_LINUX' } });

    await expect(assertHybridAccessEntry(eks(), clusterFacts(), '/hybrid/AmazonEKSHybridNodesRole')).resolves.toEqual({
      principalArn: ROLE_ARN,
    });
  });

  it('matches an entry written with the role path against the bare role name', async () => {
    const withPath = `arn:aws:iam::${ACCOUNT}:role/hybrid/${ROLE_NAME}`;
    pages([withPath]);
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: withPath, type: 'HYBRID_LINUX' } });

    await expect(assertHybridAccessEntry(eks(), clusterFacts(), ROLE_NAME)).resolves.toEqual({
      principalArn: withPath,
    });
  });
});
