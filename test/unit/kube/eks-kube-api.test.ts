import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eksKubeApi } from '#lib/kube/eks-kube-api';

/**
 * The EKS Kubernetes API client against a real HTTPS server on loopback, with a test certificate
 * standing in for the cluster CA (test/fixtures/tls). Each request is recorded as the API server
 * received it: method, path, token, content type and body.
 */

const TLS = join(__dirname, '..', '..', 'fixtures', 'tls');
const cert = readFileSync(join(TLS, 'cert.pem'));
const key = readFileSync(join(TLS, 'key.pem'));

let server: Server;
let port: number;
/** `text`: answered as text/plain (a pod's log), not JSON. */
let answer: { status: number; body: unknown; text?: string };
interface Seen {
  method?: string;
  path?: string;
  authorization?: string;
  accept?: string;
  contentType?: string;
  body?: unknown;
}
let seen: Seen[];

beforeAll(async () => {
  server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method,
        path: req.url,
        authorization: req.headers.authorization,
        ...(req.headers.accept && req.headers.accept !== 'application/json' ? { accept: req.headers.accept } : {}),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(text ? { body: JSON.parse(text) } : {}),
      });
      if (answer.text !== undefined) {
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        res.end(answer.text);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

const reader = (ca: Buffer = cert) =>
  eksKubeApi(
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
    allocatable: { cpu: '224', 'nvidia.com/gpu': '8' },
  },
};

describe('eksKubeApi: reading Nodes', () => {
  it('GETs the Node by name with the EKS token, trusting only the cluster CA', async () => {
    answer = { status: 200, body: NODE };

    const node = await reader().getNode('mi-0123456789abcdef0');

    expect(seen).toEqual([
      { method: 'GET', path: '/api/v1/nodes/mi-0123456789abcdef0', authorization: 'Bearer k8s-aws-v1.token' },
    ]);
    expect(node).toEqual({
      name: 'mi-0123456789abcdef0',
      labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
      internalIps: ['192.168.10.21'],
      ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      capacity: { cpu: '224', gpu: '8' },
      allocatable: { cpu: '224', gpu: '8' },
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
    const closed = eksKubeApi(
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

const POD = (name: string, extra: { metadata?: object; spec?: object; status?: object } = {}) => ({
  metadata: { namespace: 'ml', name, uid: `uid-${name}`, ...extra.metadata },
  spec: { nodeName: 'mi-0123456789abcdef0', ...extra.spec },
  status: { phase: 'Running', ...extra.status },
});
const STATUS = (code: number, message: string, causes: object[] = []) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  ...(causes.length ? { details: { causes } } : {}),
  code,
});

describe('eksKubeApi: cordon and Node removal', () => {
  it.each([true, false])(
    'sets spec.unschedulable=%s with a strategic merge patch and answers the patched Node',
    async (unschedulable) => {
      answer = { status: 200, body: { ...NODE, spec: { ...NODE.spec, unschedulable } } };

      const node = await reader().setUnschedulable('mi-0123456789abcdef0', unschedulable);

      expect(seen).toEqual([
        {
          method: 'PATCH',
          path: '/api/v1/nodes/mi-0123456789abcdef0',
          authorization: 'Bearer k8s-aws-v1.token',
          contentType: 'application/strategic-merge-patch+json',
          body: { spec: { unschedulable } },
        },
      ]);
      expect(node?.unschedulable).toBe(unschedulable);
    },
  );

  it('answers undefined when cordoning a Node that does not exist', async () => {
    answer = { status: 404, body: STATUS(404, 'nodes "mi-00000000000000000" not found') };
    await expect(reader().setUnschedulable('mi-00000000000000000', true)).resolves.toBeUndefined();
  });

  it.each([
    [200, true],
    [202, true],
    [404, false],
  ])('DELETEs the Node; HTTP %i answers %s', async (status, deleted) => {
    answer = { status, body: status === 404 ? STATUS(404, 'not found') : NODE };

    await expect(reader().deleteNode('mi-0123456789abcdef0')).resolves.toBe(deleted);
    expect(seen).toEqual([
      { method: 'DELETE', path: '/api/v1/nodes/mi-0123456789abcdef0', authorization: 'Bearer k8s-aws-v1.token' },
    ]);
  });
});

describe('eksKubeApi: pods and the Eviction API', () => {
  it('lists the pods on a Node by field selector, page by page, and maps what a drain needs', async () => {
    const pages = [
      {
        status: 200,
        body: {
          items: [
            POD('llm-inference-7d9c5-bx2kq', {
              metadata: {
                ownerReferences: [
                  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'not-the-controller' },
                  { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'llm-inference-7d9c5', controller: true },
                ],
                deletionTimestamp: '2026-11-22T00:15:00Z',
              },
              spec: {
                volumes: [
                  { name: 'token', projected: {} },
                  { name: 'cache', emptyDir: {} },
                ],
              },
            }),
          ],
          metadata: { continue: 'tok-2' },
        },
      },
      {
        status: 200,
        body: {
          items: [
            POD('kube-apiserver-mirror', {
              metadata: { namespace: 'kube-system', annotations: { 'kubernetes.io/config.mirror': 'abc' } },
              status: { phase: 'Succeeded' },
            }),
          ],
          metadata: { continue: '' },
        },
      },
    ];
    answer = pages[0] as typeof answer;
    const got = [];
    for await (const page of reader().listPodsOnNode('mi-0123456789abcdef0', 1)) {
      got.push(page);
      answer = (pages[got.length] as typeof answer | undefined) ?? answer;
    }

    expect(seen.map((s) => [s.method, s.path])).toEqual([
      ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dmi-0123456789abcdef0&limit=1'],
      ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dmi-0123456789abcdef0&limit=1&continue=tok-2'],
    ]);
    expect(got).toEqual([
      [
        {
          namespace: 'ml',
          name: 'llm-inference-7d9c5-bx2kq',
          uid: 'uid-llm-inference-7d9c5-bx2kq',
          nodeName: 'mi-0123456789abcdef0',
          phase: 'Running',
          controller: { kind: 'ReplicaSet', name: 'llm-inference-7d9c5' },
          mirror: false,
          terminating: true,
          emptyDir: true,
        },
      ],
      [
        {
          namespace: 'kube-system',
          name: 'kube-apiserver-mirror',
          uid: 'uid-kube-apiserver-mirror',
          nodeName: 'mi-0123456789abcdef0',
          phase: 'Succeeded',
          mirror: true,
          terminating: false,
          emptyDir: false,
        },
      ],
    ]);
  });

  it('calls an expired continue token (410 Gone) transient, so the list starts again', async () => {
    answer = { status: 410, body: STATUS(410, 'The provided continue parameter is too old') };
    const list = async () => {
      for await (const _ of reader().listPodsOnNode('mi-0123456789abcdef0')) void _;
    };
    await expect(list()).rejects.toMatchObject({ name: 'AwsTransientError' });
  });

  it('POSTs a policy/v1 Eviction to the pod eviction subresource', async () => {
    answer = { status: 201, body: { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 } };

    await expect(reader().evictPod('ml', 'llm-inference-7d9c5-bx2kq')).resolves.toEqual({ outcome: 'evicting' });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/api/v1/namespaces/ml/pods/llm-inference-7d9c5-bx2kq/eviction',
        authorization: 'Bearer k8s-aws-v1.token',
        contentType: 'application/json',
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: 'llm-inference-7d9c5-bx2kq', namespace: 'ml' },
        },
      },
    ]);
  });

  it.each([
    ['200', { status: 200, body: { kind: 'Status', status: 'Success' } }, { outcome: 'evicting' }],
    ['404', { status: 404, body: STATUS(404, 'pods "x" not found') }, { outcome: 'gone' }],
    [
      '429 (a budget allows no disruption)',
      {
        status: 429,
        body: STATUS(429, "Cannot evict pod as it would violate the pod's disruption budget.", [
          {
            reason: 'DisruptionBudget',
            message: 'The disruption budget llm-inference needs 2 healthy pods and has 2 currently',
          },
        ]),
      },
      {
        outcome: 'refused',
        reason:
          "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget llm-inference needs 2 healthy pods and has 2 currently",
      },
    ],
    [
      '500 (several budgets)',
      {
        status: 500,
        body: STATUS(
          500,
          'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        ),
      },
      {
        outcome: 'refused',
        reason: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      },
    ],
  ])('answers an eviction met with %s', async (_, given, expected) => {
    answer = given;
    await expect(reader().evictPod('ml', 'x')).resolves.toEqual(expected);
  });

  it('calls any other 500 on an eviction transient', async () => {
    answer = { status: 500, body: STATUS(500, 'etcdserver: request timed out') };
    await expect(reader().evictPod('ml', 'x')).rejects.toMatchObject({ name: 'AwsTransientError' });
  });

  it.each([
    [200, true],
    [404, false],
  ])('DELETEs a pod past its budgets; HTTP %i answers %s', async (status, deleted) => {
    answer = { status, body: status === 404 ? STATUS(404, 'not found') : POD('x') };

    await expect(reader().deletePod('ml', 'llm-inference-7d9c5-bx2kq')).resolves.toBe(deleted);
    expect(seen).toEqual([
      {
        method: 'DELETE',
        path: '/api/v1/namespaces/ml/pods/llm-inference-7d9c5-bx2kq',
        authorization: 'Bearer k8s-aws-v1.token',
      },
    ]);
  });

  it.each<[string, (api: ReturnType<typeof reader>) => Promise<unknown>]>([
    ['cordon', (api) => api.setUnschedulable('mi-0123456789abcdef0', true)],
    ['delete a Node', (api) => api.deleteNode('mi-0123456789abcdef0')],
    ['list pods', (api) => api.listPodsOnNode('mi-0123456789abcdef0')[Symbol.asyncIterator]().next()],
    ['evict', (api) => api.evictPod('ml', 'x')],
    ['delete a pod', (api) => api.deletePod('ml', 'x')],
  ])('names the operators access entry group and RBAC file when refused to %s', async (_, act) => {
    answer = { status: 403, body: STATUS(403, 'forbidden') };
    const refused = act(reader());
    await expect(refused).rejects.toMatchObject({ name: 'KubernetesApiError' });
    await expect(refused).rejects.toThrow(
      /hybridops-node-operators group and apply deploy\/kubernetes\/node-operator-rbac\.yaml/,
    );
  });
});

describe('eksKubeApi: running a pod of its own (the GPU smoke test)', () => {
  const POD = {
    apiVersion: 'v1' as const,
    kind: 'Pod' as const,
    metadata: { name: 'gpu-smoke-abc', namespace: 'hybridops-gpu-checks' },
    spec: {
      restartPolicy: 'Never' as const,
      nodeSelector: { 'kubernetes.io/hostname': 'mi-0123456789abcdef0' },
      containers: [
        { name: 'nvidia-smi', image: 'nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04', command: ['nvidia-smi'] },
      ],
    },
  };

  it('POSTs the pod to its namespace as JSON, and calls 409 AlreadyExists "exists"', async () => {
    answer = { status: 201, body: { kind: 'Pod' } };
    expect(await reader().createPod('hybridops-gpu-checks', POD)).toBe('created');
    answer = { status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409 } };
    expect(await reader().createPod('hybridops-gpu-checks', POD)).toBe('exists');

    const post = {
      method: 'POST',
      path: '/api/v1/namespaces/hybridops-gpu-checks/pods',
      authorization: 'Bearer k8s-aws-v1.token',
      contentType: 'application/json',
      body: POD,
    };
    expect(seen).toEqual([post, post]);
  });

  it('names the GPU checkers RBAC when a create is refused', async () => {
    answer = { status: 403, body: { kind: 'Status', code: 403 } };
    await expect(reader().createPod('hybridops-gpu-checks', POD)).rejects.toMatchObject({
      name: 'KubernetesApiError',
      message: expect.stringContaining('deploy/kubernetes/gpu-check-rbac.yaml'),
    });
  });

  it("GETs the pod and reads its run: phase, scheduling and the container's exit", async () => {
    answer = {
      status: 200,
      body: {
        metadata: { name: 'gpu-smoke-abc', namespace: 'hybridops-gpu-checks' },
        spec: { nodeName: 'mi-0123456789abcdef0' },
        status: {
          phase: 'Failed',
          conditions: [{ type: 'PodScheduled', status: 'True' }],
          containerStatuses: [{ state: { terminated: { exitCode: 1, reason: 'Error' } } }],
        },
      },
    };
    const run = await reader().getPod('hybridops-gpu-checks', 'gpu-smoke-abc');
    expect(seen).toEqual([
      {
        method: 'GET',
        path: '/api/v1/namespaces/hybridops-gpu-checks/pods/gpu-smoke-abc',
        authorization: 'Bearer k8s-aws-v1.token',
      },
    ]);
    expect(run).toEqual({
      namespace: 'hybridops-gpu-checks',
      name: 'gpu-smoke-abc',
      nodeName: 'mi-0123456789abcdef0',
      phase: 'Failed',
      terminated: { exitCode: 1, reason: 'Error' },
      terminating: false,
    });

    answer = {
      status: 200,
      body: {
        metadata: { name: 'gpu-smoke-abc', namespace: 'hybridops-gpu-checks' },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/4 nodes are available: 1 Insufficient nvidia.com/gpu.',
            },
          ],
        },
      },
    };
    expect(await reader().getPod('hybridops-gpu-checks', 'gpu-smoke-abc')).toMatchObject({
      phase: 'Pending',
      unschedulable: '0/4 nodes are available: 1 Insufficient nvidia.com/gpu.',
    });
    answer = { status: 404, body: { kind: 'Status', code: 404 } };
    expect(await reader().getPod('hybridops-gpu-checks', 'gpu-smoke-abc')).toBeUndefined();
  });

  it('reads the log from its start, limited in bytes, as text', async () => {
    answer = { status: 200, body: undefined, text: 'Tue Nov 24 00:00:00 2026\n+----+\n' };
    const log = await reader().readPodLog('hybridops-gpu-checks', 'gpu-smoke-abc', 4096);
    expect(seen).toEqual([
      {
        method: 'GET',
        path: '/api/v1/namespaces/hybridops-gpu-checks/pods/gpu-smoke-abc/log?limitBytes=4096',
        authorization: 'Bearer k8s-aws-v1.token',
        accept: 'text/plain',
      },
    ]);
    expect(log).toBe('Tue Nov 24 00:00:00 2026\n+----+\n');
    answer = { status: 404, body: { kind: 'Status', code: 404 } };
    expect(await reader().readPodLog('hybridops-gpu-checks', 'gpu-smoke-abc', 4096)).toBeUndefined();
  });

  it('DELETEs the pod, false when it was gone', async () => {
    answer = { status: 200, body: { kind: 'Pod' } };
    expect(await reader().deletePod('hybridops-gpu-checks', 'gpu-smoke-abc')).toBe(true);
    answer = { status: 404, body: { kind: 'Status', code: 404 } };
    expect(await reader().deletePod('hybridops-gpu-checks', 'gpu-smoke-abc')).toBe(false);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'DELETE /api/v1/namespaces/hybridops-gpu-checks/pods/gpu-smoke-abc',
      'DELETE /api/v1/namespaces/hybridops-gpu-checks/pods/gpu-smoke-abc',
    ]);
  });
});
