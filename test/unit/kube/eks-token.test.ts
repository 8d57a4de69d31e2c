import { createHash, createHmac } from 'node:crypto';
import { createEksToken } from '#lib/kube/eks-token';
import { toKubeNode } from '#lib/kube/types';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SIGNING_DATE = new Date('2026-11-22T00:00:00Z');
const PREFIX = 'k8s-aws-v1.';

const token = (overrides: Partial<Parameters<typeof createEksToken>[0]> = {}) =>
  createEksToken({
    clusterName: 'gpu-hybrid-cluster',
    region: 'ap-northeast-2',
    credentials: CREDENTIALS,
    signingDate: SIGNING_DATE,
    ...overrides,
  });

const decode = (value: string) => new URL(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8'));

/** RFC 3986 encoding, as SigV4 wants it in the canonical query string. */
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Recomputes the presigned URL's SigV4 signature from scratch (node:crypto, not the SDK), signing
 * the headers EKS sends to STS when it checks a token: host and x-k8s-aws-id.
 */
function expectedSignature(url: URL, clusterName: string, secretAccessKey: string): string {
  const params = [...url.searchParams.entries()].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${url.host}`,
    `x-k8s-aws-id:${clusterName}`,
    '',
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const longDate = url.searchParams.get('X-Amz-Date') ?? '';
  const [, shortDate, region, service] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    longDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = [shortDate ?? '', region ?? '', service ?? '', 'aws4_request'].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${secretAccessKey}`,
  );
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('createEksToken', () => {
  it('is k8s-aws-v1. followed by unpadded base64url', async () => {
    const value = await token();

    expect(value.startsWith(PREFIX)).toBe(true);
    expect(value.slice(PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('decodes to a presigned GetCallerIdentity URL on the regional STS endpoint', async () => {
    const url = decode(await token());

    expect(url.origin).toBe('https://sts.ap-northeast-2.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261122/ap-northeast-2/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261122T000000Z');
  });

  it('expires within the 15 minutes EKS accepts', async () => {
    const expires = Number(decode(await token()).searchParams.get('X-Amz-Expires'));

    expect(Number.isInteger(expires)).toBe(true);
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(900);
  });

  it('signs the x-k8s-aws-id header instead of hoisting it into the query string', async () => {
    const url = decode(await token());

    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect([...url.searchParams.keys()].map((k) => k.toLowerCase())).not.toContain('x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'gpu-hybrid-cluster', CREDENTIALS.secretAccessKey),
    );
  });

  it('ties the signature to the cluster name', async () => {
    const url = decode(await token({ clusterName: 'other-cluster' }));

    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'other-cluster', CREDENTIALS.secretAccessKey),
    );
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(
      expectedSignature(url, 'gpu-hybrid-cluster', CREDENTIALS.secretAccessKey),
    );
  });

  it('carries a session token through the URL encoding intact and signed', async () => {
    const sessionToken = 'FwoGZXIvYXdzEJr//////////wEaDO+abc/def==';
    const url = decode(await token({ credentials: { ...CREDENTIALS, sessionToken } }));

    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(sessionToken);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'gpu-hybrid-cluster', CREDENTIALS.secretAccessKey),
    );
  });

  it('is the same token for the same inputs', async () => {
    expect(await token()).toBe(await token());
  });
});

describe('toKubeNode', () => {
  const nodeJson = () => ({
    metadata: {
      name: 'mi-0123456789abcdef0',
      creationTimestamp: '2026-11-22T00:13:00Z',
      labels: { 'eks.amazonaws.com/compute-type': 'hybrid', 'hybridops.io/request-id': 'gpu-node-01-abcdef012345' },
    },
    spec: { providerID: 'eks-hybrid:///ap-northeast-2/gpu-hybrid-cluster/mi-0123456789abcdef0', unschedulable: true },
    status: {
      nodeInfo: { kubeletVersion: 'v1.31.4-eks-1234567' },
      addresses: [
        { type: 'InternalIP', address: '192.168.10.21' },
        { type: 'Hostname', address: 'gpu-node-01' },
        { type: 'ExternalIP', address: '203.0.113.10' },
        { type: 'InternalIP', address: '192.168.11.21' },
      ],
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        {
          type: 'Ready',
          status: 'False',
          reason: 'KubeletNotReady',
          message: 'container runtime network not ready: NetworkReady=false',
        },
      ],
      capacity: { cpu: '224', memory: '2113412Mi', 'nvidia.com/gpu': '8', pods: '110' },
      allocatable: { cpu: '223900m', memory: '2100000Mi', 'nvidia.com/gpu': '7', pods: '110' },
    },
  });

  it('maps the parts of a v1 Node this project reads', () => {
    expect(toKubeNode(nodeJson())).toEqual({
      name: 'mi-0123456789abcdef0',
      labels: { 'eks.amazonaws.com/compute-type': 'hybrid', 'hybridops.io/request-id': 'gpu-node-01-abcdef012345' },
      internalIps: ['192.168.10.21', '192.168.11.21'],
      ready: {
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false',
      },
      capacity: { cpu: '224', gpu: '8' },
      allocatable: { cpu: '223900m', gpu: '7' },
      providerId: 'eks-hybrid:///ap-northeast-2/gpu-hybrid-cluster/mi-0123456789abcdef0',
      createdAt: '2026-11-22T00:13:00Z',
      unschedulable: true,
      kubeletVersion: 'v1.31.4-eks-1234567',
    });
  });

  it.each([
    ['True', 'True'],
    ['Unknown', 'Unknown'],
    ['SomethingElse', 'Unknown'],
  ])('reads a Ready status of %s as %s', (given, expected) => {
    const json = nodeJson();
    json.status.conditions = [{ type: 'Ready', status: given, reason: 'R', message: 'M' }];
    expect(toKubeNode(json).ready).toEqual({ status: expected, reason: 'R', message: 'M' });
  });

  it('has no Ready condition for a Node whose kubelet posted none', () => {
    const json = nodeJson();
    json.status.conditions = [{ type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' }];
    expect(toKubeNode(json).ready).toBeUndefined();
  });

  it('fills in empty values for a Node with nothing in it', () => {
    expect(toKubeNode({})).toEqual({
      name: '',
      labels: {},
      internalIps: [],
      capacity: {},
      allocatable: {},
      unschedulable: false,
    });
  });
});
