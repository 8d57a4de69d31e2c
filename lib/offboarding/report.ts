import { usd } from '../pricing';
import { offboardCommands } from './leftovers';
import { drainFinished, type OffboardingState, type PrepareResult, type UninstallReason } from './state';
import type { Action } from './tries';

/** What the alerts of an offboarding say about the node and what the run did to it, in one place. */

/** `gpu-node-01 (mi-0123...)`, or the Node name alone when it was not onboarded under another. */
export function nodeLabel(prepare: Pick<PrepareResult, 'nodeName' | 'onboardedName'>): string {
  return prepare.onboardedName && prepare.onboardedName !== prepare.nodeName
    ? `${prepare.onboardedName} (${prepare.nodeName})`
    : prepare.nodeName;
}

/** The node as a subject names it: its onboarded name, which is shorter (subjects are under 100 characters). */
export const subjectName = (prepare: Pick<PrepareResult, 'nodeName' | 'onboardedName'>) =>
  prepare.onboardedName ?? prepare.nodeName;

/** What the Node cost a day, and how that was worked out. */
export function costLine(prepare: PrepareResult): string {
  return `${usd(prepare.costPerDayUsd)} a day (${prepare.node.vcpus} vCPU x ${prepare.pricePerVcpuHour} USD per vCPU-hour x 24 h; hybrid nodes bill while their Node object exists)`;
}

const MAX_PODS_NAMED = 10;

/** `ns/a, ns/b, ... and 3 more`. */
export function podList(pods: Array<{ namespace: string; name: string; reason?: string }>): string {
  const named = pods.slice(0, MAX_PODS_NAMED).map((p) => `${p.namespace}/${p.name}${p.reason ? ` (${p.reason})` : ''}`);
  const more = pods.length - named.length;
  return `${named.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
}

/** The output tail checkNodeCommand kept, as lines (it may give them as one text). */
export function outputTail(state: OffboardingState): string[] {
  const tail = (state.commandCheck as { outputTail?: unknown } | undefined)?.outputTail;
  if (Array.isArray(tail)) return tail.map(String);
  return typeof tail === 'string' && tail ? tail.split('\n') : [];
}

const WHY_NO_UNINSTALL: Record<UninstallReason, string> = {
  'host-online': 'it ran',
  'skipped-by-request': 'skipped, as the request asked (skipUninstall)',
  'host-offline': "skipped: the host's SSM agent is not Online",
  'not-registered': 'skipped: the node has no registered managed instance (deregistered already)',
  'no-managed-instance': 'skipped: the node is not an SSM managed instance (no Run Command to reach it)',
};

/** The first steps' actions, read from the state: the cordon, the drain and the uninstall command. */
export function lifecycleActions(state: OffboardingState & { prepare: PrepareResult }): Action[] {
  const { prepare } = state;
  const node = prepare.nodeName;
  const actions: Action[] = [];
  if (!prepare.node.present) {
    actions.push({ action: 'drain', resource: node, outcome: 'no Node to cordon or drain' });
  } else {
    if (state.cordon) {
      actions.push({
        action: 'cordon',
        resource: node,
        outcome: prepare.node.unschedulable || state.cordon.wasCordoned ? 'was cordoned already' : 'cordoned',
      });
    }
    if (!prepare.drain.run) {
      actions.push({
        action: 'drain',
        resource: node,
        outcome: `skipped: the Node is ${prepare.node.ready === 'False' ? 'NotReady' : 'not reporting (Ready Unknown)'} and its host does not answer SSM, so its pods are not running; deleting the Node lets Kubernetes remove them (pod garbage collection) and their controllers run them elsewhere`,
      });
    } else if (state.drain) {
      const forced = state.forced?.pods ?? state.drain.forced ?? [];
      const more = Math.max(0, (state.forced?.count ?? forced.length) - forced.length);
      actions.push({
        action: 'drain',
        resource: node,
        outcome: state.drain.done
          ? `drained (DaemonSet and static pods stay, as kubectl drain --ignore-daemonsets leaves them)${forced.length ? `; ${forced.length + more} pod(s) deleted past their PodDisruptionBudget (force): ${podList(forced)}${more ? ` and ${more} more` : ''}` : ''}`
          : `not finished${state.drain.blocked?.length ? `; waiting for ${podList(state.drain.blocked.map(({ namespace, name }) => ({ namespace, name })))}` : ''}`,
      });
    }
  }
  const uninstall = prepare.uninstall;
  if (!uninstall.run) {
    actions.push({ action: 'nodeadm-uninstall', resource: node, outcome: WHY_NO_UNINSTALL[uninstall.reason] });
  } else if (!state.command) {
    // Sent only once the drain is done: before, there is nothing to say about it.
    if (drainFinished(state)) actions.push({ action: 'nodeadm-uninstall', resource: node, outcome: 'not sent' });
  } else {
    const status = state.commandCheck?.status ?? (state.commandCheck?.done ? 'done' : 'sent');
    actions.push({
      action: 'nodeadm-uninstall',
      resource: node,
      outcome: `SSM Run Command ${state.command.commandId}: ${status}`,
    });
  }
  return actions;
}

/** What is on a host nodeadm uninstall did not run on, and how to remove it. */
export function hostFilesLines(
  settings: Parameters<typeof offboardCommands>[0],
  names: Parameters<typeof offboardCommands>[1],
): string[] {
  const c = offboardCommands(settings, names);
  return [
    `When the host is back, run on it: ${c.uninstall}`,
    `If that fails at its SSM step (its managed instance is deregistered already), remove nodeadm's files by hand: ${c.removeFiles}`,
    "The CNI's own interfaces and routes stay until you remove them or reboot (EKS user guide, hybrid-nodes-cni).",
  ];
}
