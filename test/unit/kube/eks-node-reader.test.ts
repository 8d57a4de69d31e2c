import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eksNodeReader } from '#lib/kube/eks-node-reader';

/**
 * The EKS Node reader against a real HTTPS server on loopback, with a test certificate standing
 * in for the cluster CA (test/fixtures/tls).
 */

const TLS = join(__dirname, '..', '..', 'fixtures', 'tls');
const cert = readFileSync(join(TLS, 'cert.pem'));
const key = readFileSync(join(TLS, 'key.pem'));

let server: Server;
let port: number;
let answer: { status: number; body: unknown };
let seen: Array<{ path?: string; authorization?: string }>;

beforeAll(async () => {
  server = createServer({ cert, key }, (req, res) => {
    seen.push({ path: req.url, authorization: req.headers.authorization });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

const reader = (ca: Buffer = cert) =>
  eksNodeReader(
    {
      name: 'gpu-hybrid-cluster',
      region: 'ap-northeast-2',
      endpoint: `https://127.0.0.1:${port}`,
      certificateAuthority: ca.toString('base64'),
    },
    async () => 'k8s-aws-v1.token',
  );

const NODE = {
  metadata: {
    name: 'mi-0123456789abcdef0',
    labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
    creationTimestamp: '2026-11-22T00:12:30Z',
  },
  spec: { providerID: 'eks-hybrid:///ap-northeast-2/gpu-hybrid-cluster/mi-0123456789abcdef0' },
  status: {
    addresses: [
      { type: 'InternalIP', address: '192.168.10.21' },
      { type: 'Hostname', address: 'gpu-node-01' },
    ],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    capacity: { cpu: '224', 'nvidia.com/gpu': '8' },
  },
};

describe('eksNodeReader', () => {
  it('GETs the Node by name with the EKS token, trusting only the cluster CA', async () => {
    answer = { status: 200, body: NODE };

    const node = await reader().getNode('mi-0123456789abcdef0');

    expect(seen).toEqual([{ path: '/api/v1/nodes/mi-0123456789abcdef0', authorization: 'Bearer k8s-aws-v1.token' }]);
    expect(node).toEqual({
      name: 'mi-0123456789abcdef0',
      labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
      internalIps: ['192.168.10.21'],
      ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      capacity: { cpu: '224', gpu: '8' },
      providerId: 'eks-hybrid:///ap-northeast-2/gpu-hybrid-cluster/mi-0123456789abcdef0',
      createdAt: '2026-11-22T00:12:30Z',
      unschedulable: false,
    });
  });

  it('answers undefined for a Node that does not exist (404)', async () => {
    answer = { status: 404, body: { kind: 'Status', reason: 'NotFound' } };
    await expect(reader().getNode('mi-00000000000000000')).resolves.toBeUndefined();
  });

  it.each([401, 403])('names the missing access entry and RBAC on %i', async (status) => {
    answer = { status, body: { kind: 'Status', reason: 'Forbidden' } };
    await expect(reader().getNode('mi-0123456789abcdef0')).rejects.toMatchObject({
      name: 'KubernetesApiError',
      message: expect.stringContaining('deploy/kubernetes/node-reader-rbac.yaml'),
    });
  });

  it.each([429, 500, 503])('calls %i transient, so the workflow retries it', async (status) => {
    answer = { status, body: {} };
    await expect(reader().getNode('mi-0123456789abcdef0')).rejects.toMatchObject({ name: 'AwsTransientError' });
  });

  it('refuses a server whose certificate the cluster CA did not sign, without retrying', async () => {
    answer = { status: 200, body: NODE };
    const otherCa = readFileSync(join(TLS, 'other-ca.pem'));

    await expect(reader(otherCa).getNode('mi-0123456789abcdef0')).rejects.toMatchObject({
      name: 'KubernetesApiError',
      message: expect.stringContaining("certificate the cluster's CA does not vouch for"),
    });
    expect(seen).toEqual([]);
  });

  it('lists hybrid Nodes page by page, by label selector, following the continue token', async () => {
    const pages = [
      { status: 200, body: { items: [NODE], metadata: { continue: 'tok-2' } } },
      {
        status: 200,
        body: { items: [{ ...NODE, metadata: { ...NODE.metadata, name: 'mi-0bbbbbbbbbbbbbbbb' } }], metadata: {} },
      },
    ];
    const names: string[][] = [];
    answer = pages[0] as typeof answer;
    for await (const page of reader().listHybridNodes(1)) {
      names.push(page.map((n) => n.name));
      answer = (pages[names.length] as typeof answer | undefined) ?? answer;
    }
    expect(names).toEqual([['mi-0123456789abcdef0'], ['mi-0bbbbbbbbbbbbbbbb']]);
    expect(seen.map((s) => s.path)).toEqual([
      '/api/v1/nodes?labelSelector=eks.amazonaws.com%2Fcompute-type%3Dhybrid&limit=1',
      '/api/v1/nodes?labelSelector=eks.amazonaws.com%2Fcompute-type%3Dhybrid&limit=1&continue=tok-2',
    ]);
  });

  it('calls a refused connection transient', async () => {
    const closed = eksNodeReader(
      {
        name: 'c',
        region: 'ap-northeast-2',
        endpoint: 'https://127.0.0.1:1',
        certificateAuthority: cert.toString('base64'),
      },
      async () => 't',
    );
    await expect(closed.getNode('mi-0123456789abcdef0')).rejects.toMatchObject({ name: 'AwsTransientError' });
  });
});
