import { HOST_STATE_DIR, NODE_CONFIG_DIR } from '../node-lifecycle/nodeadm';
import { lockParameter, requestParameters, type Settings } from '../settings';

/**
 * The exact commands that finish an offboarding by hand, or undo part of it: quoted by its alerts,
 * and fixed in the execution input when the request is submitted. No SDK here: the API builds
 * them without loading a client it does not call.
 */

export interface OffboardingNames {
  requestId: string;
  cluster: string;
  /** The Kubernetes Node name (`mi-...` for SSM hybrid nodes; also the managed-instance id then). */
  nodeName: string;
  /** The name the lock is taken under: the onboarded name, else the Node name. */
  lockName: string;
}

/**
 * What `nodeadm uninstall` removes from a host (aws/eks-hybrid `internal/flows/uninstall.go`,
 * `internal/kubelet/install.go`, `internal/ssm/install.go`, `internal/cleanup/cleanup.go`), and the
 * files `nodeadm install` and `init` leave (EKS user guide, hybrid-nodes-nodeadm, "Files
 * installed"), and this project's own (the NodeConfig onboarding's instructions keep, nodeadm's
 * logs): what is left on a host that could not run it. containerd is left: nodeadm installs it
 * from the distribution's packages, which other software may use.
 */
export const NODEADM_FILES = [
  '/usr/bin/kubelet',
  '/etc/systemd/system/kubelet.service',
  '/var/lib/kubelet',
  '/etc/kubernetes',
  '/usr/local/bin/kubectl',
  '/usr/local/bin/aws-iam-authenticator',
  '/usr/local/bin/aws_signing_helper',
  '/etc/eks',
  '/etc/aws/hybrid',
  '/opt/ssm',
  '/etc/amazon',
  '/var/lib/amazon/ssm',
  '/root/.aws',
  '/eks-hybrid',
  '/opt/cni/bin',
  '/etc/cni/net.d',
  '/var/lib/cni',
  '/etc/sysctl.d/99-nodeadm.conf',
  '/opt/nodeadm',
  NODE_CONFIG_DIR,
  HOST_STATE_DIR,
] as const;

/** The commands for each part of an offboarding, for the alerts and the operator's shell. */
export function offboardCommands(settings: Pick<Settings, 'parameterPrefix' | 'region'>, names: OffboardingNames) {
  const r = `--region ${settings.region}`;
  const lock = lockParameter(settings, names.cluster, names.lockName);
  const node = names.nodeName;
  return {
    lockName: lock,
    lock: `aws ssm delete-parameter ${r} --name ${lock}`,
    uncordon: `kubectl uncordon ${node}`,
    drain: `kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data`,
    /**
     * On the host. `--force` also removes /var/lib/cni and /etc/cni/net.d, the CNI's files the
     * kubelet reads (aws/eks-hybrid `internal/cleanup/cleanup.go`). It refuses to run while pods
     * other than DaemonSet and static ones are on the node, or the node is schedulable.
     */
    uninstall: 'sudo nodeadm uninstall --force',
    /** By hand, on a host whose instance is already deregistered (nodeadm uninstall then fails at its SSM step). */
    removeFiles: `sudo systemctl disable --now kubelet; sudo rm -rf ${NODEADM_FILES.join(' ')}; then remove the SSM agent package (Ubuntu: sudo snap remove amazon-ssm-agent; RHEL and AL2023: sudo dnf remove amazon-ssm-agent)`,
    deleteNode: `kubectl delete node ${node}`,
    deregister: `aws ssm deregister-managed-instance ${r} --instance-id ${node}`,
    activation: (id: string) => `aws ssm delete-activation ${r} --activation-id ${id}`,
    /**
     * When the activations could not be listed: how to find those left for the node's onboarded
     * name in this cluster, and remove each with the parameters its request stored.
     */
    activationsFor: (name: string, clusterArn: string) =>
      `aws ssm describe-activations ${r} --filters FilterKey=DefaultInstanceName,FilterValues=${name}; delete each tagged EKSClusterARN=${clusterArn} (aws ssm delete-activation ${r} --activation-id <id>) and the parameters its request stored (aws ssm delete-parameters ${r} --names ${requestParameters(settings, '<request id>').activationCode} ${requestParameters(settings, '<request id>').nodeConfig}, the request id from its hybridops:request-id tag)`,
    parameters: (requestId: string) => {
      const p = requestParameters(settings, requestId);
      return `aws ssm delete-parameters ${r} --names ${p.activationCode} ${p.nodeConfig}`;
    },
  };
}

/**
 * What an operator runs when the workflow's own cleanup could not run at all: the alert built
 * without any Lambda quotes it. Written when the request is submitted, so it names the Node and
 * the lock as they were resolved then.
 */
export function manualCleanup(settings: Pick<Settings, 'parameterPrefix' | 'region'>, names: OffboardingNames): string {
  const c = offboardCommands(settings, names);
  return [
    `- the node lock (only while its value names request ${names.requestId}): ${c.lock}`,
    `- Node ${names.nodeName} may be left cordoned (kubectl get node ${names.nodeName}). To put it back in service: ${c.uncordon}`,
    `- or, to finish offboarding it: ${c.drain}; on the host: ${c.uninstall}; then ${c.deleteNode}; and, if aws ssm describe-instance-information --filters Key=InstanceIds,Values=${names.nodeName} still lists it: ${c.deregister}`,
  ].join('\n');
}
