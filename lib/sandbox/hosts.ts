import { nodeadmCommands } from '../onboarding/node-config';
import type { SandboxEstate } from './estate';
import { configFile, nodeadmCalls } from './nodeadm-cli';
import type { EstateSeed } from './seed';
import type { HostInstall, SandboxHost } from './state';

/**
 * The machines behind the managed instances. Each has nodeadm's components, a kubelet at a
 * version, and the NodeConfig file where `nodeadm init` read it (what `nodeadm upgrade -c` needs).
 */

/** What the onboarding instructions install and where their `nodeadm init -c` leaves the NodeConfig. */
export function installOf(commands: readonly string[], fallbackVersion: string): HostInstall {
  const calls = nodeadmCalls(commands);
  const version = calls.find((c) => c.subcommand === 'install')?.positionals[0] ?? fallbackVersion;
  const uri = calls.find((c) => c.subcommand === 'init')?.values['config-source'] ?? '';
  const file = configFile(uri);
  // A relative path is relative to the shell the team ran init in, which no Run Command shell is
  // (AWS-RunShellScript runs in its own orchestration directory): no upgrade can name it.
  return { kubernetesVersion: minorOf(version) ?? version, nodeConfigPath: file?.startsWith('/') ? file : undefined };
}

const minorOf = (version: string) => /^v?(1\.\d+)/.exec(version)?.[1];

/** The kubelet version `minor` installs (the seed's release manifest), or undefined if there is none. */
export function kubeletVersion(seed: EstateSeed, minor: string): string | undefined {
  return seed.onPrem.releases[minor];
}

type FleetEntry = Pick<
  EstateSeed['fleet'][number],
  'name' | 'instanceId' | 'cluster' | 'kubernetesVersion' | 'notReadyForHours' | 'nodeConfigPath'
>;

/** The host of a server that joined before the sandbox started (the seed's fleet). */
export function fleetHost(seed: EstateSeed, f: FleetEntry, joinedAt: string): SandboxHost {
  const clusterVersion = seed.clusters.find((c) => c.name === f.cluster)?.version ?? '1.33';
  const minor = f.kubernetesVersion ?? clusterVersion;
  const install = installOf(nodeadmCommands(minor), minor);
  const stopped = f.notReadyForHours !== undefined;
  return {
    instanceId: f.instanceId,
    name: f.name,
    cluster: f.cluster,
    nodeadm: true,
    kubelet: { version: kubeletVersion(seed, minor) ?? `v${minor}.0`, running: !stopped, since: joinedAt },
    nodeConfigPath: f.nodeConfigPath ?? install.nodeConfigPath,
  };
}

/** The host of a server that has just registered, as its onboarding instructions installed it. */
export function joinedHost(
  estate: SandboxEstate,
  server: { nodeName: string; cluster: string; install?: HostInstall },
  instanceId: string,
  at: string,
): SandboxHost {
  const install = server.install ?? {
    kubernetesVersion: estate.seed.clusters.find((c) => c.name === server.cluster)?.version ?? '1.33',
  };
  const minor = install.kubernetesVersion;
  return {
    instanceId,
    name: server.nodeName,
    cluster: server.cluster,
    nodeadm: true,
    kubelet: { version: kubeletVersion(estate.seed, minor) ?? `v${minor}.0`, running: true, since: at },
    nodeConfigPath: install.nodeConfigPath,
  };
}
