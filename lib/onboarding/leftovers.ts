import { lockParameter, requestLabelKey, requestParameters, type Settings } from '../settings';
import { TAG_KEYS } from '../tags';

/**
 * The exact commands that remove what an onboarding request may leave behind: quoted by the
 * cleanup's alerts, and fixed in the execution input when the request is submitted. No SDK here:
 * POST /nodes builds them without loading a client it does not call.
 */

/** What is known of the request; only the id is sure to be there (the request may be malformed). */
export interface RequestNames {
  requestId: string;
  cluster?: string;
  nodeName?: string;
  /** The GPU smoke test's pod, when the request asked for one. */
  smokeTestPod?: { namespace: string; name: string };
}

/** The commands that remove each kind of leftover, for the alert and the operator's shell. */
export function removeCommands(
  settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>,
  target: RequestNames,
) {
  const r = `--region ${settings.region}`;
  const names = requestParameters(settings, target.requestId);
  const lock = target.cluster && target.nodeName ? lockParameter(settings, target.cluster, target.nodeName) : undefined;
  const tag = `${TAG_KEYS.requestId}=${target.requestId}`;
  return {
    parameters: `aws ssm delete-parameters ${r} --names ${names.activationCode} ${names.nodeConfig}`,
    /** The node lock's parameter, when the request names its cluster and node. */
    lockName: lock,
    lock: lock ? `aws ssm delete-parameter ${r} --name ${lock}` : undefined,
    activation: (id: string) => `aws ssm delete-activation ${r} --activation-id ${id}`,
    taggedActivations: `aws ssm describe-activations ${r} --filters FilterKey=DefaultInstanceName,FilterValues=${target.nodeName ?? '<node name>'} --query "ActivationList[?Tags[?Key=='${TAG_KEYS.requestId}' && Value=='${target.requestId}']].ActivationId" --output text | xargs -n1 aws ssm delete-activation ${r} --activation-id`,
    instance: (id: string) => `aws ssm deregister-managed-instance ${r} --instance-id ${id}`,
    taggedInstances: `aws ssm describe-instance-information ${r} --filters Key=tag:${TAG_KEYS.requestId},Values=${target.requestId} --query "InstanceInformationList[].InstanceId" --output text`,
    node: (id: string) =>
      `kubectl drain ${id} --ignore-daemonsets --delete-emptydir-data && kubectl delete node ${id} && aws ssm deregister-managed-instance ${r} --instance-id ${id}`,
    nodeSelector: `${requestLabelKey(settings)}=${target.requestId}`,
    pod: (namespace: string, name: string) => `kubectl delete pod -n ${namespace} ${name} --ignore-not-found`,
    tag,
  };
}

/**
 * What an operator runs to remove everything a request may have left, when the workflow's own
 * cleanup could not run at all: the last-resort alert quotes it (the workflow carries it from
 * the start, so even an alert built without any Lambda can name it).
 */
export function manualCleanup(
  settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>,
  target: RequestNames,
): { afterJoin: string; afterFailure: string } {
  const c = removeCommands(settings, target);
  const afterJoin = [
    `- the stored activation code and NodeConfig: ${c.parameters}`,
    ...(c.lock ? [`- the node lock (only while its value names request ${target.requestId}): ${c.lock}`] : []),
    `- activations tagged ${c.tag}: ${c.taggedActivations}`,
    ...(target.smokeTestPod
      ? [`- the GPU smoke-test pod: ${c.pod(target.smokeTestPod.namespace, target.smokeTestPod.name)}`]
      : []),
  ];
  const afterFailure = [
    ...afterJoin,
    `- managed instances tagged ${c.tag}: list them with ${c.taggedInstances}; deregister each that is not a Kubernetes Node with ${c.instance('<mi-id>')}`,
    `- a Node that joined for this request: kubectl get nodes -l ${c.nodeSelector}; remove one with ${c.node('<mi-id>')}`,
  ];
  return { afterJoin: afterJoin.join('\n'), afterFailure: afterFailure.join('\n') };
}
