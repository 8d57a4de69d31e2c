import { InvalidRequestError } from '#lib/errors';
import {
  assertOnboardingRequest,
  deriveRequestId,
  expiryHours,
  type OnboardingRequest,
  parseOnboardingBody,
  parseOnboardingRequest,
  REQUEST_LIMITS,
  requestDigest,
} from '#lib/onboarding/request';

const PREFIX = 'hybridops.io';
const REQUEST_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/** The seed's GPU server (events/onboard-node.json), fresh per call. */
const gpuBody = () => ({
  clientToken: 'gpu-node-01-poc-1',
  cluster: 'gpu-hybrid-cluster',
  node: { name: 'gpu-node-01', ip: '192.168.10.21', os: 'ubuntu-22.04', podCidr: '10.244.1.0/24' },
  gpu: { vendor: 'nvidia', model: 'h100', count: 8 },
  labels: { team: 'ml-platform', 'topology.kubernetes.io/zone': 'onprem-seoul-1' },
  activationExpiresInHours: 24,
});

const minimalBody = () => ({
  cluster: 'gpu-hybrid-cluster',
  node: { name: 'gpu-node-01', ip: '192.168.10.21', os: 'ubuntu-22.04' },
});

function problemsOf(body: unknown) {
  const result = parseOnboardingRequest(body, PREFIX);
  if (result.ok) throw new Error(`expected problems, got a valid request: ${JSON.stringify(result.request)}`);
  return result.problems;
}

function requestOf(body: unknown): OnboardingRequest {
  const result = parseOnboardingRequest(body, PREFIX);
  if (!result.ok) throw new Error(`expected a valid request, got ${JSON.stringify(result.problems)}`);
  return result.request;
}

describe('parseOnboardingBody', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['only white space', ' \n\t '],
  ])('rejects %s as an empty body', (_what, raw) => {
    expect(parseOnboardingBody(raw, PREFIX)).toEqual({
      ok: false,
      problems: [{ field: '(body)', message: 'the body is empty; send a JSON onboarding request' }],
    });
  });

  it('rejects text that is not JSON and quotes the parser', () => {
    const result = parseOnboardingBody('{"cluster": ', PREFIX);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toEqual({ field: '(body)', message: expect.stringMatching(/^the body is not JSON: /) });
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"gpu-node-01"'],
    ['a number', '42'],
  ])('rejects JSON %s and lists the fields a body has', (_what, raw) => {
    expect(parseOnboardingBody(raw, PREFIX)).toEqual({
      ok: false,
      problems: [
        {
          field: '(body)',
          message:
            'the body must be a JSON object with the fields clientToken, cluster, node, kubernetesVersion, gpu, labels, taints, maxPods, activationExpiresInHours',
        },
      ],
    });
  });

  it('accepts a body of exactly 16 KiB and rejects one byte more, counting bytes, not characters', () => {
    const padded = (bytes: number, filler: string) => {
      const body = JSON.stringify({ ...minimalBody(), labels: { pad: '' } });
      const room = bytes - Buffer.byteLength(body, 'utf8');
      return body.replace('"pad":""', `"pad":"${filler.repeat(room / Buffer.byteLength(filler, 'utf8'))}"`);
    };
    const atLimit = padded(REQUEST_LIMITS.maxBodyBytes, 'a');
    expect(Buffer.byteLength(atLimit, 'utf8')).toBe(16 * 1024);
    // Too long a label value, but the size check passed: the problem is the value, not the size.
    expect(parseOnboardingBody(atLimit, PREFIX)).toMatchObject({ ok: false, problems: [{ field: 'labels.pad' }] });

    const over = `${atLimit} `;
    expect(parseOnboardingBody(over, PREFIX)).toEqual({
      ok: false,
      problems: [{ field: '(body)', message: 'the body is 16385 bytes; at most 16384' }],
    });

    // 'é' is two bytes in UTF-8: fewer than 16 Ki characters, more than 16 KiB.
    const twoByte = `{"x":"${'é'.repeat(8200)}"}`;
    expect(twoByte.length).toBeLessThan(REQUEST_LIMITS.maxBodyBytes);
    expect(parseOnboardingBody(twoByte, PREFIX)).toMatchObject({
      ok: false,
      problems: [{ field: '(body)', message: expect.stringContaining('at most 16384') }],
    });
  });

  it('parses, validates and normalises a valid body', () => {
    const result = parseOnboardingBody(
      JSON.stringify({ ...minimalBody(), node: { ...minimalBody().node, os: 'Ubuntu 22.04' } }),
      PREFIX,
    );
    expect(result).toEqual({ ok: true, request: minimalBody() });
  });

  it('passes the label prefix on to the reserved-label check', () => {
    const raw = JSON.stringify({ ...minimalBody(), labels: { 'ops.example.com/x': 'y' } });
    expect(parseOnboardingBody(raw, PREFIX).ok).toBe(true);
    expect(parseOnboardingBody(raw, 'ops.example.com')).toEqual({
      ok: false,
      problems: [{ field: 'labels.ops.example.com/x', message: expect.stringContaining('reserved') }],
    });
  });
});

describe('parseOnboardingRequest', () => {
  it("accepts the seed's GPU server as it is", () => {
    expect(requestOf(gpuBody())).toEqual(gpuBody());
  });

  it('accepts the minimal request: cluster and node name, ip, os', () => {
    expect(requestOf(minimalBody())).toEqual(minimalBody());
  });

  it.each([
    ['Ubuntu 22.04', 'ubuntu-22.04'],
    ['AL2023', 'al2023'],
    ['Amazon Linux 2023', 'al2023'],
    ['RHEL 9', 'rhel-9'],
  ])('normalises node.os %p to %s', (os, id) => {
    expect(requestOf({ ...minimalBody(), node: { ...minimalBody().node, os } }).node.os).toBe(id);
  });

  it('accepts the limits themselves: 720 h, 16 GPUs, 16 taints, 32 labels, empty label value', () => {
    const body = {
      ...minimalBody(),
      activationExpiresInHours: 720,
      gpu: { vendor: 'nvidia', model: 'h100', count: 16 },
      taints: Array.from({ length: 16 }, (_, i) => ({ key: `t${i}`, effect: 'NoSchedule' })),
      labels: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`l${i}`, ''])),
    };
    expect(requestOf(body)).toEqual(body);
  });

  it('accepts the kubelet-settable kubernetes.io labels', () => {
    const labels = { 'topology.kubernetes.io/zone': 'onprem-seoul-1', 'node.kubernetes.io/rack': 'r12' };
    expect(requestOf({ ...minimalBody(), labels }).labels).toEqual(labels);
  });

  it.each([
    [{ ...minimalBody(), cluster: undefined }, 'cluster', 'cluster is required: the EKS cluster name'],
    [{ ...minimalBody(), cluster: 7 }, 'cluster', 'cluster must be a string: the EKS cluster name'],
    [{ ...minimalBody(), node: undefined }, 'node', 'node is required: {name, ip, os}'],
    [{ ...minimalBody(), node: 'gpu-node-01' }, 'node', 'node must be an object: {name, ip, os}'],
    [
      { ...minimalBody(), node: { ip: '192.168.10.21', os: 'ubuntu-22.04' } },
      'node.name',
      'node.name is required: a DNS label such as gpu-node-01',
    ],
    [
      { ...minimalBody(), node: { ...minimalBody().node, name: 'GPU_node' } },
      'node.name',
      'node.name must be a DNS label: 1-63 lower-case letters, digits and -',
    ],
    [
      { ...minimalBody(), node: { ...minimalBody().node, ip: 3232238101 } },
      'node.ip',
      'node.ip must be a string: the IPv4 address the node will use',
    ],
    [
      { ...minimalBody(), node: { ...minimalBody().node, ip: '192.168.10' } },
      'node.ip',
      'node.ip must be an IPv4 address such as 192.168.10.21',
    ],
    [
      { ...minimalBody(), node: { ...minimalBody().node, podCidr: '10.244.1.5/24' } },
      'node.podCidr',
      "node.podCidr must be an IPv4 network such as 10.244.1.0/24: '10.244.1.5/24' has host bits set; the network address is 10.244.1.0/24",
    ],
    [
      { ...minimalBody(), node: { ...minimalBody().node, extra: true } },
      'node',
      "unknown field(s) 'extra'; allowed: name, ip, os, podCidr",
    ],
    [
      { ...minimalBody(), gpu: { vendor: 'nvidia', model: 'h100', count: 8, memory: '80GB' } },
      'gpu',
      "unknown field(s) 'memory'; allowed: vendor, model, count",
    ],
    [
      { ...minimalBody(), taints: [{ key: 'a', effect: 'NoSchedule', operator: 'Exists' }] },
      'taints.0',
      "unknown field(s) 'operator'; allowed: key, value, effect",
    ],
    [
      { ...minimalBody(), zone: 'a' },
      '(body)',
      "unknown field(s) 'zone'; allowed: clientToken, cluster, node, kubernetesVersion, gpu, labels, taints, maxPods, activationExpiresInHours",
    ],
    [
      { ...minimalBody(), labels: { 'Bad Key': 'x' } },
      'labels.Bad Key',
      "label key 'Bad Key': name 'Bad Key' must be 1-63 characters",
    ],
    [{ ...minimalBody(), labels: ['gpu=h100'] }, 'labels', 'labels must be an object: label key: value strings'],
    [{ ...minimalBody(), maxPods: 0 }, 'maxPods', 'maxPods must be 1-250'],
    [{ ...minimalBody(), maxPods: '110' }, 'maxPods', 'maxPods must be a number: 1-250'],
  ])('reports %j as a problem with %s: %s', (body, field, message) => {
    expect(problemsOf(body)).toEqual([{ field, message: expect.stringContaining(message) }]);
  });

  it('lists the reserved-label problems together with the schema problems', () => {
    const problems = problemsOf({
      ...minimalBody(),
      node: { ...minimalBody().node, ip: '999.1.1.1' },
      labels: { 'kubernetes.io/role': 'gpu', 'hybridops.io/request-id': 'mine', 'eks.amazonaws.com/x': 'y' },
    });
    expect(problems).toEqual([
      { field: 'node.ip', message: 'node.ip must be an IPv4 address such as 192.168.10.21' },
      { field: 'labels.kubernetes.io/role', message: expect.stringContaining("prefix 'kubernetes.io' is reserved") },
      { field: 'labels.hybridops.io/request-id', message: expect.stringContaining('reserved for labels this project') },
      {
        field: 'labels.eks.amazonaws.com/x',
        message: expect.stringContaining("prefix 'eks.amazonaws.com' is reserved"),
      },
    ]);
  });

  it('lists every problem in one body, not just the first', () => {
    const problems = problemsOf({
      clientToken: 'has spaces in it',
      cluster: 'gpu-hybrid-cluster',
      node: { name: 'GPU_01', ip: '10.0.0', os: 'bottlerocket', podCidr: '10.244.1.1/24' },
      kubernetesVersion: 'latest',
      gpu: { vendor: 'amd', model: 'MI300X', count: 0 },
      labels: { ok: 'a'.repeat(64) },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoPanic' }],
      maxPods: 500,
      activationExpiresInHours: 1.5,
    });
    expect(problems.map((p) => p.field).sort()).toEqual(
      [
        'activationExpiresInHours',
        'clientToken',
        'gpu.count',
        'gpu.model',
        'gpu.vendor',
        'kubernetesVersion',
        'labels.ok',
        'maxPods',
        'node.ip',
        'node.name',
        'node.os',
        'node.podCidr',
        'taints.0.effect',
      ].sort(),
    );
    expect(problems).toContainEqual({
      field: 'node.os',
      message: expect.stringContaining('Bottlerocket is no longer supported'),
    });
    expect(problems).toContainEqual({
      field: 'taints.0.effect',
      message: 'effect must be one of NoSchedule, PreferNoSchedule, NoExecute',
    });
  });

  it('lists a missing node and a missing cluster as two problems', () => {
    expect(problemsOf({})).toEqual([
      { field: 'cluster', message: 'cluster is required: the EKS cluster name' },
      { field: 'node', message: 'node is required: {name, ip, os}' },
    ]);
  });
});

describe('assertOnboardingRequest', () => {
  it('returns the parsed request when it is valid', () => {
    expect(assertOnboardingRequest(gpuBody(), PREFIX)).toEqual(gpuBody());
  });

  it('throws InvalidRequestError naming every problem and the fix', () => {
    const body = { ...minimalBody(), gpu: { vendor: 'amd', model: 'mi300x', count: 17 } };
    let thrown: unknown;
    try {
      assertOnboardingRequest(body, PREFIX);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidRequestError);
    expect((thrown as Error).name).toBe('InvalidRequestError');
    expect((thrown as Error).message).toContain('gpu.vendor: gpu.vendor must be nvidia');
    expect((thrown as Error).message).toContain('gpu.count: gpu.count must be at most 16');
    expect((thrown as InvalidRequestError).fix).toBe('Correct the listed fields and submit the request again.');
  });
});

describe('deriveRequestId', () => {
  const withToken = (clientToken?: string, name = 'gpu-node-01', cluster = 'gpu-hybrid-cluster') =>
    requestOf({ cluster, clientToken, node: { name, ip: '192.168.10.21', os: 'ubuntu-22.04' } });

  it('gives the same id for the same cluster and client token, so a retried POST names the same execution', () => {
    const first = deriveRequestId(withToken('gpu-node-01-poc-1'));
    expect(deriveRequestId(withToken('gpu-node-01-poc-1'))).toBe(first);
    expect(first).toMatch(/^gpu-node-01-poc-1-[0-9a-f]{12}$/);
    expect(first).toMatch(REQUEST_ID);
  });

  it('depends on the token, not the body: the same token for another node is the same id (a 409)', () => {
    expect(deriveRequestId(withToken('poc-1', 'gpu-node-12'))).toBe(deriveRequestId(withToken('poc-1', 'gpu-node-01')));
  });

  it('gives different ids for different tokens and for different clusters', () => {
    const id = deriveRequestId(withToken('token-a'));
    expect(deriveRequestId(withToken('token-b'))).not.toBe(id);
    expect(deriveRequestId(withToken('token-a', 'gpu-node-01', 'other-cluster'))).not.toBe(id);
  });

  it('gives a fresh random id, named after the node, each time there is no token', () => {
    const ids = new Set(Array.from({ length: 20 }, () => deriveRequestId(withToken(undefined))));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^gpu-node-01-[0-9a-f]{12}$/);
  });

  it('stays a 63-character DNS label for the longest node name, with no doubled hyphen', () => {
    const longest = `${'a'.repeat(39)}-${'b'.repeat(23)}`;
    expect(longest).toHaveLength(63);
    const id = deriveRequestId(withToken(undefined, longest));
    expect(id.length).toBeLessThanOrEqual(63);
    expect(id).toMatch(REQUEST_ID);
    expect(id).toMatch(new RegExp(`^${'a'.repeat(39)}-[0-9a-f]{12}$`));
  });

  it.each(['a'.repeat(63), `${'x-'.repeat(31)}y`, '0', 'z'])(
    'keeps every id a valid execution name and label value (node %s, no token)',
    (name) => {
      const id = deriveRequestId(withToken(undefined, name));
      expect(id.length).toBeLessThanOrEqual(63);
      expect(id).toMatch(REQUEST_ID);
      expect(id).not.toContain('--');
    },
  );

  it.each(['UPPER.case:Token_1', '...', `${'T'.repeat(64)}`, 'a:b'])('makes token %s a valid id', (token) => {
    const id = deriveRequestId(withToken(token.slice(0, 64)));
    expect(id.length).toBeLessThanOrEqual(63);
    expect(id).toMatch(REQUEST_ID);
    expect(id).not.toContain('--');
  });
});

describe('requestDigest', () => {
  it('does not depend on the order of keys, at any depth', () => {
    const a = requestOf(gpuBody());
    const b = requestOf({
      activationExpiresInHours: 24,
      labels: { 'topology.kubernetes.io/zone': 'onprem-seoul-1', team: 'ml-platform' },
      gpu: { count: 8, model: 'h100', vendor: 'nvidia' },
      node: { podCidr: '10.244.1.0/24', os: 'ubuntu-22.04', ip: '192.168.10.21', name: 'gpu-node-01' },
      cluster: 'gpu-hybrid-cluster',
      clientToken: 'gpu-node-01-poc-1',
    });
    expect(requestDigest(b)).toBe(requestDigest(a));
    expect(requestDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for spellings that normalise to the same request', () => {
    const plain = requestOf(gpuBody());
    const spelled = requestOf({ ...gpuBody(), node: { ...gpuBody().node, os: 'Ubuntu 22.04' } });
    expect(requestDigest(spelled)).toBe(requestDigest(plain));
  });

  it.each([
    ['the GPU count', { gpu: { vendor: 'nvidia', model: 'h100', count: 4 } }],
    ['the node IP', { node: { ...gpuBody().node, ip: '192.168.10.32' } }],
    ['a label value', { labels: { team: 'research', 'topology.kubernetes.io/zone': 'onprem-seoul-1' } }],
    ['the expiry', { activationExpiresInHours: 48 }],
  ])('changes when %s changes', (_what, change) => {
    expect(requestDigest(requestOf({ ...gpuBody(), ...change }))).not.toBe(requestDigest(requestOf(gpuBody())));
  });
});

describe('expiryHours', () => {
  it('defaults to 24 hours (the SSM default) and keeps an explicit value', () => {
    expect(REQUEST_LIMITS.defaultExpiryHours).toBe(24);
    expect(expiryHours(requestOf(minimalBody()))).toBe(24);
    expect(expiryHours(requestOf({ ...minimalBody(), activationExpiresInHours: 720 }))).toBe(720);
  });

  it('caps at 720 hours, the 30 days SSM allows', () => {
    expect(REQUEST_LIMITS.maxExpiryHours).toBe(720);
  });
});
