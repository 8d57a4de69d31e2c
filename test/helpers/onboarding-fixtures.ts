/**
 * Fixtures for the onboarding unit tests: the seed's reference architecture (REFERENCE.md
 * section 2) as SDK answers and as lib values. Every export is a function that builds a fresh
 * copy, so no test can leak a mutation into another.
 */
import type { Cluster } from '@aws-sdk/client-eks';
import type { Context } from 'aws-lambda';
import type { ClusterAccess, KubeApiFactory, KubeNode } from '#lib/kube/types';
import type { ClusterFacts } from '#lib/cluster/facts';
import { assertOnboardingRequest, type OnboardingRequest, type OnboardingRequestBody } from '#lib/onboarding/request';
import type {
  ActivationResult,
  ManagedInstance,
  NodeConfigResult,
  NodeState,
  OnboardingState,
  PreflightResult,
  RegistrationState,
} from '#lib/onboarding/state';
import type { Settings } from '#lib/settings';
import { manualCleanup } from '#lib/onboarding/leftovers';
import { nodeadmCommands } from '#lib/onboarding/node-config';

export const ACCOUNT = '111122223333';
export const REGION = 'ap-northeast-2';
export const CLUSTER = 'gpu-hybrid-cluster';
export const CLUSTER_ARN = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
export const ENDPOINT = 'https://0123456789ABCDEF0123456789ABCDEF.gr7.ap-northeast-2.eks.amazonaws.com';
export const CA = 'U0FOREJPWC1DTFVTVEVSLUNB';
export const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
export const ROLE_NAME = 'AmazonEKSHybridNodesRole';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
export const LABEL_PREFIX = 'hybridops.io';
export const PARAMETER_PREFIX = '/eks-hybrid-ops/test';
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:onboard-node-test`;
export const REQUEST_ID = 'gpu-node-01-abcdef012345';
export const REQUESTER = `arn:aws:iam::${ACCOUNT}:user/alice`;
export const INSTANCE_ID = 'mi-0123456789abcdef0';
export const ACTIVATION_ID = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
export const CODE_PARAMETER = `${PARAMETER_PREFIX}/onboarding/${REQUEST_ID}/activation-code`;
export const NODE_CONFIG_PARAMETER = `${PARAMETER_PREFIX}/onboarding/${REQUEST_ID}/node-config`;
export const LOCK_PARAMETER = `${PARAMETER_PREFIX}/locks/${CLUSTER}/gpu-node-01`;

export function settings(): Settings {
  return {
    stage: 'test',
    region: REGION,
    clusterName: CLUSTER,
    hybridNodesRoleName: ROLE_NAME,
    parameterPrefix: PARAMETER_PREFIX,
    labelPrefix: LABEL_PREFIX,
    alertTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:hybridops-alerts-test`,
    onboardStateMachineArn: STATE_MACHINE_ARN,
  };
}

/** The seed's GPU server (events/onboard-node.json). */
export function gpuRequestBody(): OnboardingRequestBody {
  return {
    clientToken: 'gpu-node-01-poc-1',
    cluster: CLUSTER,
    node: { name: 'gpu-node-01', ip: '192.168.10.21', os: 'ubuntu-22.04', podCidr: '10.244.1.0/24' },
    gpu: { vendor: 'nvidia', model: 'h100', count: 8 },
    labels: { team: 'ml-platform', 'topology.kubernetes.io/zone': 'onprem-seoul-1' },
    activationExpiresInHours: 24,
  };
}

/** A CPU server with nothing but the required fields. */
export function cpuRequestBody(): OnboardingRequestBody {
  return { cluster: CLUSTER, node: { name: 'cpu-node-07', ip: '192.168.20.7', os: 'rhel-9' } };
}

export function parseRequest(body: OnboardingRequestBody = gpuRequestBody()): OnboardingRequest {
  return assertOnboardingRequest(body, LABEL_PREFIX);
}

/** DescribeCluster's `cluster` for the seed cluster. */
export function eksCluster(overrides: Partial<Cluster> = {}): Cluster {
  return {
    name: CLUSTER,
    arn: CLUSTER_ARN,
    status: 'ACTIVE',
    version: '1.33',
    endpoint: ENDPOINT,
    certificateAuthority: { data: CA },
    resourcesVpcConfig: { vpcId: VPC_ID, subnetIds: ['subnet-0aa1a1a1a1a1a1a1a', 'subnet-0bb2b2b2b2b2b2b2b'] },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.96.0.0/16', ipFamily: 'ipv4' },
    remoteNetworkConfig: {
      remoteNodeNetworks: [{ cidrs: ['192.168.0.0/16'] }],
      remotePodNetworks: [{ cidrs: ['10.244.0.0/16'] }],
    },
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    ...overrides,
  };
}

/**
 * GetServiceSetting's answer for the activation tier, and DescribeInstanceInformation's one page
 * of `registered` on-prem managed instances (the SSM quota POST /nodes checks).
 */
export function ssmTier(tier: 'standard' | 'advanced' = 'standard') {
  return {
    ServiceSetting: {
      SettingId: '/ssm/managed-instance/activation-tier',
      SettingValue: tier,
      ARN: 'arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier',
      Status: tier === 'standard' ? 'Default' : 'Customized',
    },
  };
}
export function registeredInstances(registered = 3) {
  return {
    InstanceInformationList: Array.from({ length: registered }, (_, n) => ({
      InstanceId: `mi-${String(n).padStart(17, '0')}`,
    })),
  };
}

/** DescribeVpcs' answer for the seed VPC. */
export function seedVpcs() {
  return {
    Vpcs: [
      {
        VpcId: VPC_ID,
        CidrBlock: '10.0.0.0/16',
        CidrBlockAssociationSet: [
          {
            AssociationId: 'vpc-cidr-assoc-1',
            CidrBlock: '10.0.0.0/16',
            CidrBlockState: { State: 'associated' as const },
          },
        ],
      },
    ],
  };
}

/** What describeClusterFacts makes of {@link eksCluster} and {@link seedVpcs}. */
export function clusterFacts(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    name: CLUSTER,
    arn: CLUSTER_ARN,
    accountId: ACCOUNT,
    status: 'ACTIVE',
    version: '1.33',
    endpoint: ENDPOINT,
    certificateAuthority: CA,
    vpcId: VPC_ID,
    subnetIds: ['subnet-0aa1a1a1a1a1a1a1a', 'subnet-0bb2b2b2b2b2b2b2b'],
    vpcCidrs: ['10.0.0.0/16'],
    serviceCidr: '10.96.0.0/16',
    remoteNodeCidrs: ['192.168.0.0/16'],
    remotePodCidrs: ['10.244.0.0/16'],
    authenticationMode: 'API_AND_CONFIG_MAP',
    ...overrides,
  };
}

export function clusterAccess(): ClusterAccess {
  return { name: CLUSTER, region: REGION, endpoint: ENDPOINT, certificateAuthority: CA };
}

export function preflightResult(overrides: Partial<PreflightResult> = {}): PreflightResult {
  return {
    startedAt: '2026-11-22T00:00:00.000Z',
    checkedAt: '2026-11-22T00:00:02.000Z',
    clusterArn: CLUSTER_ARN,
    clusterVersion: '1.33',
    kubernetesVersion: '1.33',
    activationExpiresAt: '2026-11-23T00:00:00.000Z',
    lockParameter: LOCK_PARAMETER,
    clusterAccess: clusterAccess(),
    ...overrides,
  };
}

export function activationResult(overrides: Partial<ActivationResult> = {}): ActivationResult {
  return {
    activationId: ACTIVATION_ID,
    codeParameter: CODE_PARAMETER,
    expiresAt: '2026-11-23T00:00:00.000Z',
    issuedAt: '2026-11-22T00:00:05.000Z',
    ...overrides,
  };
}

export function nodeConfigResult(): NodeConfigResult {
  return {
    parameterName: NODE_CONFIG_PARAMETER,
    renderedAt: '2026-11-22T00:00:07.000Z',
    bytes: 1234,
    commands: nodeadmCommands('1.33'),
  };
}

export function managedInstance(overrides: Partial<ManagedInstance> = {}): ManagedInstance {
  return {
    instanceId: INSTANCE_ID,
    platform: 'Ubuntu 22.04',
    ipAddress: '192.168.10.21',
    registeredAt: '2026-11-22T00:12:05.000Z',
    ...overrides,
  };
}

export function registeredState(): RegistrationState {
  return { registered: true, attempt: 5, nextWaitSeconds: 0, instance: managedInstance() };
}

export function readyNodeState(overrides: Partial<NodeState> = {}): NodeState {
  return {
    settled: true,
    phase: 'ready',
    attempt: 4,
    nextWaitSeconds: 0,
    name: INSTANCE_ID,
    internalIp: '192.168.10.21',
    readyAt: '2026-11-22T00:14:35.000Z',
    ...overrides,
  };
}

/** The execution input the API starts the workflow with. */
export function onboardingInput(body: OnboardingRequestBody = gpuRequestBody()): OnboardingState {
  return {
    requestId: REQUEST_ID,
    requester: REQUESTER,
    requestDigest: 'digest-of-the-request',
    request: body,
    resources: {
      lockParameter: LOCK_PARAMETER,
      parameterPath: `${PARAMETER_PREFIX}/onboarding/${REQUEST_ID}`,
      manualCleanup: manualCleanup(settings(), { requestId: REQUEST_ID, cluster: CLUSTER, nodeName: body.node.name }),
    },
  };
}

/** A hybrid Node as the kubelet registers it with this request's NodeConfig, Ready. */
export function kubeNode(overrides: Partial<KubeNode> = {}): KubeNode {
  return {
    name: INSTANCE_ID,
    labels: {
      'eks.amazonaws.com/compute-type': 'hybrid',
      'eks.amazonaws.com/hybrid-credential-provider': 'ssm',
      'kubernetes.io/hostname': INSTANCE_ID,
      [`${LABEL_PREFIX}/request-id`]: REQUEST_ID,
      gpu: 'h100',
    },
    internalIps: ['192.168.10.21'],
    ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
    capacity: { cpu: '224', gpu: '8' },
    allocatable: { cpu: '224', gpu: '8' },
    providerId: `eks-hybrid:///${REGION}/${CLUSTER}/${INSTANCE_ID}`,
    createdAt: '2026-11-22T00:13:00Z',
    unschedulable: false,
    kubeletVersion: 'v1.33.5-eks-3025e55',
    ...overrides,
  };
}

/**
 * A Kubernetes API over a fixed set of Nodes (by name) that only reads, recording which cluster
 * and Node each read asked for; any write throws. No AWS, no HTTP.
 */
export function fakeNodes(nodes: KubeNode[] = []) {
  const reads: Array<{ cluster: ClusterAccess; name: string }> = [];
  const writes = (): never => {
    throw new Error('fakeNodes only reads Nodes');
  };
  const factory: KubeApiFactory = (cluster) => ({
    setUnschedulable: writes,
    deleteNode: writes,
    listPodsOnNode: writes,
    evictPod: writes,
    deletePod: writes,
    createPod: writes,
    getPod: writes,
    readPodLog: writes,
    getNode: async (name) => {
      reads.push({ cluster, name });
      const node = nodes.find((n) => n.name === name);
      return node ? structuredClone(node) : undefined;
    },
    async *listHybridNodes() {
      yield structuredClone(nodes.filter((n) => n.labels['eks.amazonaws.com/compute-type'] === 'hybrid'));
    },
  });
  return { factory, reads };
}

/** The least a middy handler needs of a Lambda context. */
export function lambdaContext(functionName = 'eks-hybrid-ops-test-task'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
