import {
  KUBELET_MAX_MINOR_SKEW,
  kubeletSkewProblem,
  labelKeyProblem,
  labelValueProblem,
  parseKubernetesVersion,
  reservedLabelProblem,
  TAINT_EFFECTS,
} from '#lib/domain/kubernetes';

const OWN_PREFIX = 'hybridops.io';

describe('labelKeyProblem', () => {
  it.each([
    'gpu',
    'gpu-count',
    'node-type',
    'nvidia.com/gpu',
    'example.com/a_b.c-d',
    'A1',
    'a'.repeat(63),
    `example.com/${'a'.repeat(63)}`,
  ])('accepts %s', (key) => {
    expect(labelKeyProblem(key)).toBeUndefined();
  });

  it('accepts a prefix of exactly 253 characters', () => {
    const prefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(prefix).toHaveLength(253);
    expect(labelKeyProblem(`${prefix}/gpu`)).toBeUndefined();
  });

  it('rejects a prefix of 254 characters as too long', () => {
    const prefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`;
    expect(prefix).toHaveLength(254);
    expect(labelKeyProblem(`${prefix}/gpu`)).toContain('at most 253 characters');
  });

  it.each([
    ['Example.com/gpu', 'Example.com'],
    ['example_com/gpu', 'example_com'],
    ['-example.com/gpu', '-example.com'],
    ['example..com/gpu', 'example..com'],
    ['/gpu', ''],
    ['a/b/c', 'a/b'],
  ])('rejects %s: the prefix %p is not a DNS subdomain', (key, prefix) => {
    expect(labelKeyProblem(key)).toBe(
      `prefix '${prefix}' must be a DNS subdomain (lower-case alphanumerics, '-' and '.', at most 253 characters)`,
    );
  });

  it.each([
    ['a'.repeat(64), 'a'.repeat(64)],
    [`example.com/${'a'.repeat(64)}`, 'a'.repeat(64)],
    ['', ''],
    ['example.com/', ''],
    ['-gpu', '-gpu'],
    ['gpu-', 'gpu-'],
    ['gpu count', 'gpu count'],
    ['gpu=h100', 'gpu=h100'],
  ])('rejects %p: the name %p is not 1-63 qualified-name characters', (key, name) => {
    expect(labelKeyProblem(key)).toBe(
      `name '${name}' must be 1-63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    );
  });
});

describe('labelValueProblem', () => {
  it.each(['', 'h100', 'hybrid', '8', 'A-b_c.D', 'a'.repeat(63)])('accepts %p', (value) => {
    expect(labelValueProblem(value)).toBeUndefined();
  });

  it.each(['a'.repeat(64), '-h100', 'h100-', 'h100 sxm', 'a/b', 'present:NoSchedule'])('rejects %p', (value) => {
    expect(labelValueProblem(value)).toBe(
      `value '${value}' must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    );
  });
});

describe('reservedLabelProblem', () => {
  it.each(['gpu', 'node-type', 'nvidia.com/gpu.product', 'example.com/rack', 'kubernetes.example.com/x'])(
    'leaves an ordinary key %s alone',
    (key) => {
      expect(reservedLabelProblem(key, OWN_PREFIX)).toBeUndefined();
    },
  );

  it.each([
    ['kubernetes.io/role', 'kubernetes.io', 'kubernetes.io'],
    ['node-role.kubernetes.io/worker', 'node-role.kubernetes.io', 'kubernetes.io'],
    ['beta.kubernetes.io/fluentd', 'beta.kubernetes.io', 'kubernetes.io'],
    ['k8s.io/anything', 'k8s.io', 'k8s.io'],
    ['x.k8s.io/anything', 'x.k8s.io', 'k8s.io'],
    ['eks.amazonaws.com/compute-type', 'eks.amazonaws.com', 'eks.amazonaws.com'],
    ['eks.amazonaws.com/hybrid-credential-provider', 'eks.amazonaws.com', 'eks.amazonaws.com'],
  ])('rejects %s: prefix %s is reserved (%s)', (key, prefix, reserved) => {
    expect(reservedLabelProblem(key, OWN_PREFIX)).toBe(
      `prefix '${prefix}' is reserved (${reserved}); a kubelet may not set it on its own Node`,
    );
  });

  it.each([
    'topology.kubernetes.io/zone',
    'topology.kubernetes.io/region',
    'kubernetes.io/hostname',
    'kubernetes.io/arch',
    'kubernetes.io/os',
    'node.kubernetes.io/instance-type',
    'node.kubernetes.io/rack',
    'gpu.node.kubernetes.io/anything',
    'kubelet.kubernetes.io/anything',
    'failure-domain.beta.kubernetes.io/zone',
  ])('accepts %s, which a kubelet may set on its own Node', (key) => {
    expect(reservedLabelProblem(key, OWN_PREFIX)).toBeUndefined();
  });

  it.each([
    ['hybridops.io/x', 'hybridops.io'],
    ['hybridops.io/request-id', 'hybridops.io'],
    ['team.hybridops.io/x', 'team.hybridops.io'],
  ])("rejects %s: the project's own prefix is for the labels it sets", (key, prefix) => {
    expect(reservedLabelProblem(key, OWN_PREFIX)).toBe(`prefix '${prefix}' is reserved for labels this project sets`);
  });

  it('does not reserve a domain that merely ends with the same letters', () => {
    expect(reservedLabelProblem('nothybridops.io/x', OWN_PREFIX)).toBeUndefined();
    expect(reservedLabelProblem('mykubernetes.io/x', OWN_PREFIX)).toBeUndefined();
  });

  it("follows the stage's own prefix setting", () => {
    expect(reservedLabelProblem('hybridops.io/x', 'ops.example.com')).toBeUndefined();
    expect(reservedLabelProblem('ops.example.com/x', 'ops.example.com')).toContain('reserved for labels this project');
  });
});

describe('TAINT_EFFECTS', () => {
  it('are the three Kubernetes taint effects', () => {
    expect([...TAINT_EFFECTS]).toEqual(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
  });
});

describe('parseKubernetesVersion', () => {
  it.each([
    ['1.33', { major: 1, minor: 33 }],
    ['v1.33', { major: 1, minor: 33 }],
    ['1.31.4', { major: 1, minor: 31 }],
    [' 1.30 ', { major: 1, minor: 30 }],
  ])('reads %p', (text, version) => {
    expect(parseKubernetesVersion(text)).toEqual(version);
  });

  it.each(['latest', '1', '1.33.4.1', '1.x', 'v', '', '1.33-eks'])('rejects %p', (text) => {
    expect(parseKubernetesVersion(text)).toBeUndefined();
  });
});

describe('kubeletSkewProblem', () => {
  it('allows a kubelet up to three minors older than the control plane', () => {
    expect(KUBELET_MAX_MINOR_SKEW).toBe(3);
  });

  it.each(['1.30', '1.31', '1.32', '1.33', 'v1.33', '1.30.14'])('allows kubelet %s on a 1.33 cluster', (kubelet) => {
    expect(kubeletSkewProblem(kubelet, '1.33')).toBeUndefined();
  });

  it.each([
    ['1.34', 'newer than the control plane'],
    ['1.29', 'four minors older'],
    ['2.33', 'another major version'],
    ['0.33', 'another major version'],
  ])('rejects kubelet %s on a 1.33 cluster (%s) and names the allowed range', (kubelet) => {
    expect(kubeletSkewProblem(kubelet, '1.33')).toBe(
      `kubelet ${kubelet} cannot join a 1.33 control plane; allowed: 1.30 to 1.33 (kubelet may be up to 3 minor versions older, never newer)`,
    );
  });

  it('says when the requested version is not a version at all', () => {
    expect(kubeletSkewProblem('latest', '1.33')).toBe(
      "'latest' is not a Kubernetes version (use major.minor, e.g. 1.33)",
    );
  });

  it('says when the cluster reports a version it cannot read', () => {
    expect(kubeletSkewProblem('1.33', '')).toBe("the cluster reports an unreadable version ''");
  });

  it('does not go below minor 0 for a very young major version', () => {
    expect(kubeletSkewProblem('1.0', '1.2')).toBeUndefined();
    expect(kubeletSkewProblem('1.3', '1.2')).toContain('allowed: 1.0 to 1.2');
  });
});
