import { configFile, nodeadmCalls } from '#lib/sandbox/nodeadm-cli';

/** How the sandbox's hosts read the nodeadm commands in a script, as nodeadm's own flags parse. */

describe('nodeadm commands in a script', () => {
  it('reads the subcommand, its version and its config source, short or long, spaced or with =', () => {
    const calls = nodeadmCalls([
      'set -euo pipefail',
      'sudo /usr/local/bin/nodeadm upgrade 1.33 -c file:///root/nodeConfig.yaml --timeout 30m',
      'nodeadm upgrade 1.32 --config-source=file:///etc/x.yaml -s pod-validation --skip=node-validation,init-validation',
    ]);

    expect(calls).toEqual([
      expect.objectContaining({
        subcommand: 'upgrade',
        positionals: ['1.33'],
        values: { 'config-source': 'file:///root/nodeConfig.yaml', timeout: '30m' },
        detached: false,
        logsTo: 'stderr',
      }),
      expect.objectContaining({
        positionals: ['1.32'],
        values: { 'config-source': 'file:///etc/x.yaml' },
        lists: { skip: ['pod-validation', 'node-validation', 'init-validation'] },
      }),
    ]);
  });

  it('sees where its log goes: stdout with 2>&1 on its line or an exec redirect before it', () => {
    const [own] = nodeadmCalls(['nodeadm uninstall --force 2>&1 | tail -n 50']);
    const [global] = nodeadmCalls(['exec 2>&1', 'nodeadm uninstall']);
    const [toFile] = nodeadmCalls(['nodeadm uninstall 2>/var/log/nodeadm.log']);

    expect(own).toMatchObject({ subcommand: 'uninstall', switches: ['force'], logsTo: 'stdout', positionals: [] });
    expect(global?.logsTo).toBe('stdout');
    expect(toFile).toMatchObject({ logsTo: 'stderr', positionals: [] });
  });

  it('sees a command started in the background', () => {
    const calls = nodeadmCalls([
      'systemd-run --unit=u nodeadm uninstall',
      'nohup nodeadm uninstall > /tmp/log 2>&1 &',
      'true && nodeadm uninstall',
    ]);

    expect(calls.map((c) => c.detached)).toEqual([true, true, false]);
  });

  it('keeps flags nodeadm does not define apart; a quoted phrase or a comment runs nothing', () => {
    const [call] = nodeadmCalls(['nodeadm uninstall --purge "-s" pod-validation # nodeadm upgrade 1.33']);
    const none = nodeadmCalls(['echo "nodeadm is ready"', 'nodeadm version']);

    expect(call).toMatchObject({ unknown: ['--purge'], lists: { skip: ['pod-validation'] } });
    expect(none).toEqual([]);
  });

  it('resolves a file URI as nodeadm does: host and path joined', () => {
    expect(configFile('file:///root/nodeConfig.yaml')).toBe('/root/nodeConfig.yaml');
    expect(configFile('file://nodeConfig.yaml')).toBe('nodeConfig.yaml');
    expect(configFile('imds://user-data')).toBeUndefined();
  });
});
