import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type HostLayout,
  NODE_CONFIG_PATH,
  NODE_CONFIG_SOURCE,
  type NodeadmScriptInput,
  nodeadmLog,
  nodeadmScript,
  nodeadmUnit,
} from '#lib/node-lifecycle/nodeadm';

/**
 * The scripts run for real, under `sh` as the SSM agent runs them, on a scratch "host": stubs for
 * nodeadm, systemd-run (runs its command at once), systemctl (the unit is never active unless a
 * test says so), id (root) and sleep (returns at once).
 */

let root: string;
let host: HostLayout;

const stub = (name: string, body: string) => {
  const file = join(root, 'bin', name);
  writeFileSync(file, `#!/bin/bash\n${body}\n`);
  chmodSync(file, 0o755);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'nodeadm-script-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'etc'));
  host = {
    nodeConfigPath: join(root, 'etc', 'nodeConfig.yaml'),
    stateDir: join(root, 'state'),
    path: `${join(root, 'bin')}:/usr/bin:/bin`,
  };
  stub('id', 'echo 0');
  stub('sleep', 'exit 0');
  // Active while the marker exists, once.
  stub('systemctl', `if [ -f "${root}/active" ]; then rm -f "${root}/active"; exit 0; fi; exit 3`);
  stub('systemd-run', 'while [[ "$1" == --* ]]; do shift; done; "$@"');
  // Records each call; prints what nodeadm would log; exits as told.
  stub(
    'nodeadm',
    [
      `echo "$*" >>"${root}/nodeadm-calls"`,
      `echo '{"level":"info","msg":"Running upgrade"}'`,
      `[ -n "\${NODEADM_SAYS:-}" ] && echo "$NODEADM_SAYS" >&2`,
      'exit "${NODEADM_EXIT:-0}"',
    ].join('\n'),
  );
  writeFileSync(host.nodeConfigPath, 'kind: NodeConfig\n', { mode: 0o600 });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function run(input: NodeadmScriptInput, env: Record<string, string> = {}) {
  const file = join(root, '_script.sh');
  writeFileSync(file, nodeadmScript(input, host).join('\n'));
  const result = spawnSync('sh', [file], { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  const calls = existsSync(join(root, 'nodeadm-calls'))
    ? readFileSync(join(root, 'nodeadm-calls'), 'utf8').trim().split('\n')
    : [];
  return { code: result.status, out: `${result.stdout}${result.stderr}`, calls };
}

const upgrade: NodeadmScriptInput = { action: 'upgrade', requestId: 'upgrade-1-abc', kubernetesVersion: '1.33' };
const uninstall: NodeadmScriptInput = { action: 'uninstall', requestId: 'offboard-1-abc' };

describe('the NodeConfig path', () => {
  it('is absolute, outside /etc/eks (nodeadm uninstall deletes that), and a file:/// URI for -c', () => {
    expect(NODE_CONFIG_PATH).toBe('/etc/eks-hybrid-ops/nodeConfig.yaml');
    expect(NODE_CONFIG_PATH.startsWith('/etc/eks/')).toBe(false);
    expect(NODE_CONFIG_SOURCE).toBe('file:///etc/eks-hybrid-ops/nodeConfig.yaml');
  });
});

describe('nodeadm upgrade', () => {
  it('runs nodeadm upgrade with the target version and the NodeConfig, and prints the log tail', () => {
    const { code, out, calls } = run(upgrade);

    expect(code).toBe(0);
    expect(calls).toEqual([`upgrade 1.33 -c file://${host.nodeConfigPath}`]);
    expect(out).toContain('{"level":"info","msg":"Running upgrade"}');
    expect(out).toContain('eks-hybrid-ops: nodeadm upgrade succeeded.');
    expect(existsSync(host.nodeConfigPath)).toBe(true);
    expect(readFileSync(nodeadmLog(upgrade, host), 'utf8')).toContain('Running upgrade');
  });

  it('fails without running nodeadm when the NodeConfig is not where onboarding left it', () => {
    rmSync(host.nodeConfigPath);

    const { code, out, calls } = run(upgrade);

    expect(code).toBe(1);
    expect(calls).toEqual([]);
    expect(out).toContain(`FAILED: No NodeConfig at ${host.nodeConfigPath}`);
  });

  it('fails when nodeadm exits non-zero, with its output', () => {
    const { code, out } = run(upgrade, { NODEADM_EXIT: '1', NODEADM_SAYS: '{"level":"fatal","msg":"Command failed"}' });

    expect(code).toBe(1);
    expect(out).toContain('{"level":"fatal","msg":"Command failed"}');
    expect(out).toContain('FAILED: nodeadm upgrade exited 1.');
  });

  it('fails when nodeadm exits 0 having found nothing installed', () => {
    const { code, out } = run(upgrade, { NODEADM_SAYS: 'No nodeadm components installed. Please use nodeadm install' });

    expect(code).toBe(1);
    expect(out).toContain('FAILED: nodeadm found nothing installed');
  });

  it('fails when nodeadm is not installed', () => {
    rmSync(join(root, 'bin', 'nodeadm'));

    const { code, out } = run(upgrade);

    expect(code).toBe(1);
    expect(out).toContain('FAILED: nodeadm is not on PATH.');
  });

  it('delivered again after it ran, reports the recorded result without running nodeadm twice', () => {
    expect(run(upgrade).code).toBe(0);

    const again = run(upgrade);

    expect(again.code).toBe(0);
    expect(again.calls).toHaveLength(1);
    expect(again.out).toContain('already ran for this request');
  });

  it('delivered again while its unit runs, waits for that run instead of starting another', () => {
    mkdirSync(join(host.stateDir, 'upgrade-1-abc-upgrade'), { recursive: true });
    writeFileSync(join(host.stateDir, 'upgrade-1-abc-upgrade', 'exit-code'), '0\n');
    writeFileSync(join(host.stateDir, 'upgrade-1-abc-upgrade', 'nodeadm.log'), 'Finished post-launch tasks\n');
    writeFileSync(join(root, 'active'), '');

    const { code, out, calls } = run(upgrade);

    expect(code).toBe(0);
    expect(calls).toEqual([]);
    expect(out).toContain(`already running in unit ${nodeadmUnit(upgrade)}: waiting`);
    expect(out).toContain('Finished post-launch tasks');
  });

  it('refuses a version that is not major.minor before any script exists', () => {
    for (const kubernetesVersion of ['1.33.1', 'v1.33', "1.33'; rm -rf / #", '', undefined]) {
      expect(() => nodeadmScript({ ...upgrade, kubernetesVersion })).toThrow(/Kubernetes minor version such as 1.33/);
    }
  });

  it('refuses a request id that is not a DNS label', () => {
    expect(() => nodeadmScript({ ...upgrade, requestId: "x'; reboot" })).toThrow(/not a DNS label/);
  });
});

describe('nodeadm uninstall', () => {
  it('runs nodeadm uninstall and removes the NodeConfig once it succeeded', () => {
    const { code, out, calls } = run(uninstall);

    expect(code).toBe(0);
    expect(calls).toEqual(['uninstall']);
    expect(out).toContain('eks-hybrid-ops: nodeadm uninstall succeeded.');
    expect(existsSync(host.nodeConfigPath)).toBe(false);
  });

  it('keeps the NodeConfig when nodeadm uninstall fails', () => {
    const { code, out } = run(uninstall, { NODEADM_EXIT: '1' });

    expect(code).toBe(1);
    expect(out).toContain('FAILED: nodeadm uninstall exited 1.');
    expect(existsSync(host.nodeConfigPath)).toBe(true);
  });

  it('is done when nodeadm is not there at all', () => {
    rmSync(join(root, 'bin', 'nodeadm'));

    const { code, out } = run(uninstall);

    expect(code).toBe(0);
    expect(out).toContain('nothing to uninstall');
  });
});

describe('every script', () => {
  it.each([upgrade, uninstall])('$action: strict bash, handed over by sh, never printing the environment', (input) => {
    const lines = nodeadmScript(input);
    const text = lines.join('\n');

    expect(lines[0]).toBe("script=$(cat <<'EKS_HYBRID_OPS_SCRIPT'");
    expect(lines[1]).toBe('set -euo pipefail');
    expect(lines.at(-1)).toBe('exec /bin/bash -c "$script"');
    expect(text).not.toMatch(/set -x|\bxtrace\b|\benv\b|printenv|\bexport -p\b|\bdeclare -p\b/);
    expect(spawnSync('sh', ['-n', '-c', text]).status).toBe(0);
    expect(spawnSync('bash', ['-n', '-c', lines.slice(1, -3).join('\n')]).status).toBe(0);
  });
});
