import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDesiredState } from '#lib/desired-state/file';
import {
  DEFAULT_MOUNT_OPTIONS,
  type DesiredState,
  isEmptyDesiredState,
  MAX_TARGETS_PER_RULE,
  validateDesiredState,
} from '#lib/desired-state/schema';
import { DEFAULT_SWEEP_CONFIG } from '#lib/sweep/config';

const readConfig = (stage: string) => readFileSync(join(__dirname, '../../../config', `${stage}.yaml`), 'utf8');

function stateOf(text: string): DesiredState {
  const result = parseDesiredState(text);
  if (!result.ok) throw new Error(`expected a valid desired state, got ${JSON.stringify(result.problems)}`);
  return result.state;
}

function problemsOf(text: string): string[] {
  const result = parseDesiredState(text);
  if (result.ok) throw new Error(`expected problems, got a valid desired state: ${JSON.stringify(result.state)}`);
  return result.problems;
}

/** One cluster with the given YAML body (indented under `- name: …`). */
const withCluster = (body: string, name = 'gpu-hybrid-cluster') => `version: 1
clusters:
  - name: ${name}
${body}`;

/** One cluster whose outbound rules are the given YAML list (indented under `rules:`). */
const withRules = (rules: string, endpointId = 'rslvr-out-0a1b2c3d4e5f60718') =>
  withCluster(`    dns:
      outbound:
        endpointId: ${endpointId}
        rules:
${rules}`);

/** One rule for company.local with the given targets (a YAML flow list). */
const withTargets = (targets: string) =>
  withRules(`          - domain: company.local\n            targets: ${targets}\n`);

/** One cluster with an EFS block holding the given extra YAML lines (indented under `efs:`). */
const withEfs = (
  extra: string,
  ids = 'fileSystemId: fs-0a1b2c3d4e5f60718\n      securityGroupId: sg-0e5f0a1b2c3d40718',
) =>
  withCluster(`    efs:
      ${ids}
${extra}`);

const sevenTargets = `[${Array.from({ length: MAX_TARGETS_PER_RULE + 1 }, (_, i) => `{ip: 192.168.1.${i + 1}}`).join(', ')}]`;

describe('the stage desired-state files', () => {
  it.each(['dev', 'sandbox'])('config/%s.yaml is valid', (stage) => {
    const result = parseDesiredState(readConfig(stage));
    expect(result).toEqual({ ok: true, state: expect.any(Object) });
  });

  it('reads config/dev.yaml with its defaults applied', () => {
    expect(stateOf(readConfig('dev'))).toEqual({
      version: 1,
      clusters: [
        {
          name: 'gpu-hybrid-cluster',
          dns: {
            outbound: {
              endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
              rules: [
                {
                  domain: 'company.local',
                  name: 'on-prem-dns-rule',
                  targets: [
                    { ip: '192.168.1.53', port: 53 },
                    { ip: '192.168.1.54', port: 53 },
                  ],
                },
              ],
            },
            inbound: { endpointId: 'rslvr-in-0a1b2c3d4e5f60718' },
            checks: { onPremName: 'harbor.company.local', awsName: 'my-service.eks.amazonaws.com' },
          },
          efs: {
            fileSystemId: 'fs-0a1b2c3d4e5f60718',
            securityGroupId: 'sg-0e5f0a1b2c3d40718',
            createMissingMountTargets: true,
            podsNatted: false,
            mountOptions: 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2',
            extraCidrs: [],
          },
        },
      ],
    });
  });
});

describe('parseDesiredState defaults and normalisation', () => {
  it('defaults a target port to 53', () => {
    const state = stateOf(withTargets('[{ip: 192.168.1.53}, {ip: 192.168.1.54, port: 5353}]'));
    expect(state.clusters[0]?.dns?.outbound.rules[0]?.targets).toEqual([
      { ip: '192.168.1.53', port: 53 },
      { ip: '192.168.1.54', port: 5353 },
    ]);
  });

  it('defaults EFS to NATed pods, no mount-target creation, the seed mount options and no extra CIDRs', () => {
    const state = stateOf(withEfs(''));
    expect(state.clusters[0]?.efs).toEqual({
      fileSystemId: 'fs-0a1b2c3d4e5f60718',
      securityGroupId: 'sg-0e5f0a1b2c3d40718',
      createMissingMountTargets: false,
      podsNatted: true,
      mountOptions: 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2',
      extraCidrs: [],
    });
    expect(DEFAULT_MOUNT_OPTIONS).toBe('vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2');
  });

  it.each([
    ['a trailing dot', 'company.local.'],
    ['upper case', 'Company.LOCAL'],
    ['both', 'COMPANY.Local.'],
  ])('normalises a domain with %s to company.local', (_what, domain) => {
    const state = stateOf(withRules(`          - domain: ${domain}\n            targets: [{ip: 192.168.1.53}]\n`));
    expect(state.clusters[0]?.dns?.outbound.rules[0]?.domain).toBe('company.local');
  });

  it('accepts a cluster with neither dns nor efs', () => {
    expect(stateOf(withCluster(''))).toEqual({ version: 1, clusters: [{ name: 'gpu-hybrid-cluster' }] });
  });

  it('validates parsed values as well as text', () => {
    expect(validateDesiredState({ version: 1, clusters: [] })).toEqual({
      ok: true,
      state: { version: 1, clusters: [] },
    });
    expect(validateDesiredState({ version: '1', clusters: [] })).toEqual({
      ok: false,
      problems: ['version: version must be 1'],
    });
  });
});

describe('the sweep settings', () => {
  const withSweep = (body: string) => `version: 1\nclusters: []\nsweep:\n${body}`;

  it('leave the Cost Explorer names unset by default: the sweep discovers them each night', () => {
    const sweep = stateOf(withSweep('  monthlyBudgetUsd: 42000\n')).sweep;
    expect(sweep).not.toHaveProperty('costService');
    expect(sweep).not.toHaveProperty('hybridUsageTypes');
    expect(DEFAULT_SWEEP_CONFIG).not.toHaveProperty('costService');
  });

  it('keep the Cost Explorer names a stage pins', () => {
    const sweep = stateOf(
      withSweep(
        '  costService: Amazon Elastic Container Service for Kubernetes\n  hybridUsageTypes: [APN2-HybridNodes-vCPU-Hours]\n',
      ),
    ).sweep;
    expect(sweep).toMatchObject({
      costService: 'Amazon Elastic Container Service for Kubernetes',
      hybridUsageTypes: ['APN2-HybridNodes-vCPU-Hours'],
    });
  });

  it('refuse an empty list of usage types, saying to leave it out instead', () => {
    expect(problemsOf(withSweep('  hybridUsageTypes: []\n'))).toEqual([
      'sweep.hybridUsageTypes: hybridUsageTypes must list at least one usage type, or be left out to discover them',
    ]);
  });
});

describe('parseDesiredState rejects bad desired-state files', () => {
  const rulesPath = 'clusters.0.dns.outbound.rules';
  const target0 = `${rulesPath}.0.targets.0`;

  it.each<[string, string, string, string]>([
    ['text that is not YAML', 'version: [1\nclusters: [', '(file)', 'not YAML'],
    ['an empty file', '', '(file)', 'must be a YAML mapping with version: 1 and clusters'],
    ['a file that is a plain string', 'hello', '(file)', 'must be a YAML mapping with version: 1'],
    ['a missing version', 'clusters: []', 'version', 'version must be 1'],
    ['version 2', 'version: 2\nclusters: []', 'version', 'version must be 1'],
    ['clusters that are not a list', 'version: 1\nclusters: {name: gpu-hybrid-cluster}', 'clusters', 'must be a list'],
    ['a missing clusters list', 'version: 1', 'clusters', 'must be a list'],
    [
      'an unknown top-level field',
      'version: 1\nclusters: []\nregion: us-east-1',
      '(file)',
      "unknown field(s) 'region'",
    ],
    [
      'an unknown field in a cluster',
      withCluster('    vpcId: vpc-0123456789abcdef0\n'),
      'clusters.0',
      "unknown field(s) 'vpcId'",
    ],
    ['a cluster name that starts with a dash', withCluster('', '-gpu'), 'clusters.0.name', 'letters, digits, - or _'],
    ['a cluster name with a dot', withCluster('', 'gpu.cluster'), 'clusters.0.name', 'must be an EKS cluster name'],
    ['a cluster without a name', 'version: 1\nclusters:\n  - {}\n', 'clusters.0.name', 'name is required'],
    [
      'a cluster declared twice',
      'version: 1\nclusters:\n  - name: gpu-hybrid-cluster\n  - name: gpu-hybrid-cluster\n',
      'clusters.1.name',
      "cluster 'gpu-hybrid-cluster' is declared twice",
    ],
    [
      'a malformed outbound endpointId',
      withRules(
        '          - domain: company.local\n            targets: [{ip: 192.168.1.53}]\n',
        'rslvr-in-0a1b2c3d4e5f60718',
      ),
      'clusters.0.dns.outbound.endpointId',
      'must look like rslvr-out-0123456789abcdef',
    ],
    [
      'a malformed inbound endpointId',
      withCluster(`    dns:
      outbound:
        endpointId: rslvr-out-0a1b2c3d4e5f60718
        rules: [{domain: company.local, targets: [{ip: 192.168.1.53}]}]
      inbound:
        endpointId: rslvr-in-XYZ
`),
      'clusters.0.dns.inbound.endpointId',
      'must look like rslvr-in-0123456789abcdef',
    ],
    ['no outbound rules', withRules('          []\n'), rulesPath, 'must declare at least one domain'],
    [
      'a domain that is not a DNS name',
      withRules('          - domain: company_local!\n            targets: [{ip: 192.168.1.53}]\n'),
      `${rulesPath}.0.domain`,
      'must be a DNS name such as company.local',
    ],
    [
      'a domain with an empty label',
      withRules('          - domain: company..local\n            targets: [{ip: 192.168.1.53}]\n'),
      `${rulesPath}.0.domain`,
      'must be a DNS name',
    ],
    [
      'a domain declared twice (after normalisation)',
      withRules(
        '          - domain: company.local\n            targets: [{ip: 192.168.1.53}]\n' +
          '          - domain: Company.Local.\n            targets: [{ip: 192.168.1.54}]\n',
      ),
      `${rulesPath}.1.domain`,
      "'company.local' is declared twice",
    ],
    ['a rule with 0 targets', withTargets('[]'), `${rulesPath}.0.targets`, 'at least one on-prem DNS server'],
    [
      'a rule with 7 targets',
      withTargets(sevenTargets),
      `${rulesPath}.0.targets`,
      'at most 6 servers (the Resolver quota)',
    ],
    ['targets that are not a list', withTargets('192.168.1.53'), `${rulesPath}.0.targets`, 'a list of {ip, port}'],
    ['a target ip that is not IPv4', withTargets('[{ip: 192.168.1.300}]'), `${target0}.ip`, 'must be an IPv4 address'],
    ['a target without an ip', withTargets('[{port: 53}]'), `${target0}.ip`, 'ip is required'],
    ['port 0', withTargets('[{ip: 192.168.1.53, port: 0}]'), `${target0}.port`, 'port must be 1-65535'],
    ['port 70000', withTargets('[{ip: 192.168.1.53, port: 70000}]'), `${target0}.port`, 'port must be 1-65535'],
    ['a port that is a string', withTargets('[{ip: 192.168.1.53, port: "53"}]'), `${target0}.port`, '1-65535'],
    [
      'a target listed twice',
      withTargets('[{ip: 192.168.1.53}, {ip: 192.168.1.53, port: 53}]'),
      `${rulesPath}.0.targets`,
      'a target is listed twice',
    ],
    [
      'an unknown field in a target',
      withTargets('[{ip: 192.168.1.53, weight: 1}]'),
      target0,
      "unknown field(s) 'weight'",
    ],
    [
      'a malformed vpcs entry',
      withRules(
        '          - domain: company.local\n            vpcs: [vpc-XYZ]\n            targets: [{ip: 192.168.1.53}]\n',
      ),
      `${rulesPath}.0.vpcs.0`,
      'must look like vpc-0123456789abcdef',
    ],
    [
      'a malformed fileSystemId',
      withEfs('', 'fileSystemId: efs-123\n      securityGroupId: sg-0e5f0a1b2c3d40718'),
      'clusters.0.efs.fileSystemId',
      'must look like fs-0123456789abcdef',
    ],
    [
      'a missing securityGroupId',
      withEfs('', 'fileSystemId: fs-0a1b2c3d4e5f60718'),
      'clusters.0.efs.securityGroupId',
      'is required: an id like sg-0123456789abcdef',
    ],
    [
      'createMissingMountTargets as a string',
      withEfs('      createMissingMountTargets: "true"\n'),
      'clusters.0.efs.createMissingMountTargets',
      'must be true or false',
    ],
    ['podsNatted as "no"', withEfs('      podsNatted: "no"\n'), 'clusters.0.efs.podsNatted', 'must be true or false'],
    [
      'an extraCidrs entry that is not a CIDR',
      withEfs('      extraCidrs: [10.20.0.0/33]\n'),
      'clusters.0.efs.extraCidrs.0',
      'must hold CIDR blocks',
    ],
    ['an unknown field in efs', withEfs('      throughput: 100\n'), 'clusters.0.efs', "unknown field(s) 'throughput'"],
  ])('rejects %s', (_what, text, field, message) => {
    const problems = problemsOf(text);
    expect(problems).toContainEqual(expect.stringContaining(`${field}: `));
    const named = problems.filter((p) => p.startsWith(`${field}: `));
    expect(named).toContainEqual(expect.stringContaining(message));
  });

  it('lists every problem, not only the first', () => {
    const problems = problemsOf(
      withRules('          - domain: company.local\n            targets: [{ip: 1.2.3}, {ip: 192.168.1.53, port: 0}]\n'),
    );
    expect(problems).toEqual([
      `${target0}.ip: ip must be an IPv4 address such as 192.168.1.53`,
      `${rulesPath}.0.targets.1.port: port must be 1-65535`,
    ]);
  });

  it('quotes the YAML parser when the text is not YAML', () => {
    const problems = problemsOf('version: [1\nclusters: [');
    expect(problems).toEqual([expect.stringMatching(/^\(file\): not YAML: .+/)]);
  });
});

describe('isEmptyDesiredState', () => {
  it('is true for no clusters', () => {
    expect(isEmptyDesiredState(stateOf('version: 1\nclusters: []'))).toBe(true);
  });

  it('is true when no cluster declares dns or efs', () => {
    const state = stateOf('version: 1\nclusters:\n  - name: gpu-hybrid-cluster\n  - name: cpu-hybrid-cluster\n');
    expect(isEmptyDesiredState(state)).toBe(true);
  });

  it('is false for config/dev.yaml', () => {
    expect(isEmptyDesiredState(stateOf(readConfig('dev')))).toBe(false);
  });

  it('is false when one cluster of several declares only efs', () => {
    const state = stateOf(withEfs('') + '  - name: cpu-hybrid-cluster\n');
    expect(state.clusters).toHaveLength(2);
    expect(isEmptyDesiredState(state)).toBe(false);
  });
});
