/**
 * The shell scripts SSM Run Command (`AWS-RunShellScript`) runs on a hybrid node: `nodeadm
 * uninstall` and `nodeadm upgrade`, built in this one place. Sources: aws/eks-hybrid
 * `cmd/nodeadm/upgrade/upgrade.go`, `cmd/nodeadm/uninstall/uninstall.go`, `internal/flows/{upgrade,uninstall}.go`,
 * `internal/configprovider/factory.go`; EKS user guide, hybrid-nodes-upgrade, hybrid-nodes-remove and
 * hybrid-nodes-nodeadm (https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-nodeadm.html).
 *
 * What the scripts guard against:
 * - nodeadm restarts the SSM agent (upgrade) or stops and removes it (uninstall), so it runs in a
 *   transient systemd unit of its own (`systemd-run`): the agent going away cannot kill it halfway.
 *   Its output goes to a log under {@link HOST_STATE_DIR} (0700), whose tail the script prints.
 * - A command SSM delivers again (an agent that restarts resumes in-progress documents) attaches
 *   to the unit still running, or reports the recorded result, instead of running nodeadm twice.
 * - `nodeadm upgrade` exits 0 having done nothing when its tracker is missing ("No nodeadm
 *   components installed"): the script fails then.
 * - Nothing unvalidated reaches a script: the version matches `^\d+\.\d+$`, the request id is a DNS
 *   label, and every value is single-quoted anyway. No `set -x`, no `env`: the environment is
 *   never printed.
 */

/**
 * Where onboarding's instructions leave the NodeConfig on the host, and where `nodeadm upgrade`
 * reads it. nodeadm keeps no copy of the NodeConfig it was initialised with and reads one only from
 * `-c` (aws/eks-hybrid `internal/configprovider`); an upgrade needs the same file (same credential
 * provider, node name preserved, kubelet and containerd settings rewritten from it). Not under
 * `/etc/eks`, which `nodeadm uninstall` deletes; the project's own directory, so it is clear who put
 * it there and the offboarding removes it with the rest.
 */
export const NODE_CONFIG_DIR = '/etc/eks-hybrid-ops';
export const NODE_CONFIG_PATH = `${NODE_CONFIG_DIR}/nodeConfig.yaml`;
/** The `-c` argument: an absolute `file:///` URI (`file://nodeConfig.yaml` is relative to the working directory). */
export const NODE_CONFIG_SOURCE = `file://${NODE_CONFIG_PATH}`;
/** Where a run keeps nodeadm's log and exit code on the host, one directory per request and action. */
export const HOST_STATE_DIR = '/var/lib/eks-hybrid-ops';

export type NodeAction = 'uninstall' | 'upgrade';

/** A Kubernetes minor version as `nodeadm upgrade` takes it here (`1.33`). */
export const KUBERNETES_MINOR_VERSION = /^\d+\.\d+$/;
/** A request id: a DNS label, as the workflows' execution names are. */
export const NODE_COMMAND_REQUEST_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/** The host's layout; tests point it at a scratch directory. */
export interface HostLayout {
  nodeConfigPath: string;
  stateDir: string;
  /** The PATH the script runs with: fixed, never inherited from the agent. */
  path: string;
}

export const HOST_LAYOUT: HostLayout = {
  nodeConfigPath: NODE_CONFIG_PATH,
  stateDir: HOST_STATE_DIR,
  path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

export interface NodeadmScriptInput {
  action: NodeAction;
  requestId: string;
  /** Required for `upgrade`: the target minor version. */
  kubernetesVersion?: string;
}

/** The systemd unit a request's nodeadm run gets on the host (journalctl -u <unit>). */
export const nodeadmUnit = (input: Pick<NodeadmScriptInput, 'action' | 'requestId'>) =>
  `eks-hybrid-ops-${input.action}-${input.requestId}`;

/** Where a request's nodeadm log lands on the host. */
export const nodeadmLog = (input: Pick<NodeadmScriptInput, 'action' | 'requestId'>, host: HostLayout = HOST_LAYOUT) =>
  `${host.stateDir}/${input.requestId}-${input.action}/nodeadm.log`;

/** Single-quotes a value for bash: the only expansion-free quoting. */
const q = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * Checks what a script will be built from; throws a plain Error (a programming error: the
 * handlers' schemas and the workflows' planning refuse bad input before it gets here).
 */
export function assertScriptInput(input: NodeadmScriptInput): void {
  if (!NODE_COMMAND_REQUEST_ID.test(input.requestId)) {
    throw new Error(`Request id ${JSON.stringify(input.requestId)} is not a DNS label ([a-z0-9-], 1-63).`);
  }
  if (input.action === 'upgrade' && !KUBERNETES_MINOR_VERSION.test(input.kubernetesVersion ?? '')) {
    throw new Error(
      `nodeadm upgrade needs a Kubernetes minor version such as 1.33, not ${JSON.stringify(input.kubernetesVersion)}.`,
    );
  }
}

/** The bash lines that check the host and set `"$@"` to the nodeadm command line. */
function actionLines(input: NodeadmScriptInput, host: HostLayout): string[] {
  if (input.action === 'upgrade') {
    return [
      `command -v nodeadm >/dev/null 2>&1 || fail 'nodeadm is not on PATH. Install nodeadm 1.0.19 or later (older ones fail to verify the SSM setup CLI) and upgrade again.'`,
      `[ -f "$node_config" ] || fail "No NodeConfig at $node_config: nodeadm upgrade needs the one this node was initialised with. Copy it there (root, mode 0600) and upgrade again."`,
      // Literal, so the command line reads as what runs (and the sandbox's hosts read it so).
      `set -- nodeadm upgrade ${q(input.kubernetesVersion ?? '')} -c ${q(`file://${host.nodeConfigPath}`)}`,
      // Removed after success: nothing for an upgrade.
      `remove_after=''`,
    ];
  }
  return [
    `if ! command -v nodeadm >/dev/null 2>&1; then`,
    `  rm -f -- "$node_config"`,
    `  say 'nodeadm is not installed on this host: nothing to uninstall.'`,
    `  exit 0`,
    `fi`,
    'set -- nodeadm uninstall',
    // The NodeConfig holds the (spent) activation code: gone with the node.
    `remove_after="$node_config"`,
  ];
}

/**
 * The `commands` of an `AWS-RunShellScript` command that runs `nodeadm <action>` on the host. The
 * agent runs them with `sh`; the first lines hand the body to bash (`pipefail`) as an argument, so
 * nothing in it reads the script from stdin.
 */
export function nodeadmScript(input: NodeadmScriptInput, host: HostLayout = HOST_LAYOUT): string[] {
  assertScriptInput(input);
  const { action } = input;
  const body = [
    'set -euo pipefail',
    'umask 077',
    `export PATH=${q(host.path)}`,
    `action=${q(action)}`,
    `unit=${q(nodeadmUnit(input))}`,
    `state=${q(`${host.stateDir}/${input.requestId}-${action}`)}`,
    `node_config=${q(host.nodeConfigPath)}`,
    `say() { printf 'eks-hybrid-ops: %s\\n' "$*"; }`,
    `fail() { say "FAILED: $*"; exit 1; }`,
    `[ "$(id -u)" -eq 0 ] || fail 'Must run as root (SSM Run Command runs as root).'`,
    `command -v systemd-run >/dev/null 2>&1 || fail 'systemd-run is not on PATH: nodeadm hosts run systemd.'`,
    ...actionLines(input, host),
    'mkdir -p -m 0700 "$state"',
    'if systemctl is-active --quiet "$unit"; then',
    '  say "nodeadm $action is already running in unit $unit: waiting for it."',
    'elif [ -f "$state/exit-code" ]; then',
    '  say "nodeadm $action already ran for this request: its result follows."',
    'else',
    '  : >"$state/nodeadm.log"',
    // Its own unit: the SSM agent that nodeadm stops or restarts is not its parent.
    '  systemd-run --unit="$unit" --collect --quiet --setenv=PATH="$PATH" --description="eks-hybrid-ops: nodeadm $action" \\',
    `    /bin/bash -c 'rc=0; "\${@:4}" >>"$1" 2>&1 || rc=$?; if [ "$rc" -eq 0 ] && [ -n "$3" ]; then rm -f -- "$3"; fi; printf "%s\\n" "$rc" >"$2"' \\`,
    '    eks-hybrid-ops "$state/nodeadm.log" "$state/exit-code" "$remove_after" "$@"',
    '  say "nodeadm $action started in unit $unit; log: $state/nodeadm.log"',
    'fi',
    'while systemctl is-active --quiet "$unit"; do sleep 5; done',
    '[ -f "$state/exit-code" ] || fail "nodeadm $action ended without an exit code (was its unit stopped?): journalctl -u $unit"',
    'rc="$(cat "$state/exit-code")"',
    'tail -n 40 "$state/nodeadm.log" || true',
    '[ "$rc" = 0 ] || fail "nodeadm $action exited $rc. Full log on the host: $state/nodeadm.log"',
    ...(action === 'upgrade'
      ? [
          // nodeadm upgrade without its tracker logs this and exits 0 (aws/eks-hybrid internal/flows/upgrade.go).
          `if grep -q 'No nodeadm components installed' "$state/nodeadm.log"; then`,
          `  fail 'nodeadm found nothing installed (it exits 0 then): this host was not set up with nodeadm install and init.'`,
          'fi',
        ]
      : []),
    'say "nodeadm $action succeeded."',
  ];
  return [
    "script=$(cat <<'EKS_HYBRID_OPS_SCRIPT'",
    ...body,
    'EKS_HYBRID_OPS_SCRIPT',
    ')',
    'exec /bin/bash -c "$script"',
  ];
}

/**
 * What `nodeadm uninstall` leaves on the host (it removes kubelet, containerd, the SSM agent and
 * nodeadm's own files, not the CNI's: aws/eks-hybrid `internal/flows/uninstall.go`; EKS user guide,
 * hybrid-nodes-remove step 5 and hybrid-nodes-cni), and the commands that remove it, for the
 * offboarding's report.
 */
export const UNINSTALL_LEFTOVERS = [
  'CNI configuration and state: sudo rm -rf /etc/cni/net.d /var/lib/cni (or run nodeadm uninstall --force)',
  'Pod volumes and images: sudo rm -rf /var/lib/kubelet /var/lib/containerd',
  "The CNI's interfaces, routes and iptables rules (Cilium: cilium_host, cilium_net, cilium_vxlan; Calico: vxlan.calico): reboot, or remove them as the CNI's uninstall documents",
] as const;

/**
 * What is left on a host that was offline, so nodeadm uninstall never ran there. Its managed
 * instance was deregistered from AWS meanwhile, so nodeadm uninstall would fail asking SSM about it
 * with credentials that no longer renew; without the registration file it skips that step ("Skipping
 * SSM deregistration - node is not registered", aws/eks-hybrid internal/ssm/registration.go).
 */
export const OFFLINE_HOST_LEFTOVERS = [
  `nodeadm's installation: on the host, sudo rm -f /var/lib/amazon/ssm/registration && sudo nodeadm uninstall && sudo rm -rf ${NODE_CONFIG_DIR} ${HOST_STATE_DIR}`,
  ...UNINSTALL_LEFTOVERS,
] as const;
