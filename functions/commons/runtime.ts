import { type AwsClients, type ClientClasses, createAwsClients, type ServiceName } from '#lib/aws/clients';
import { systemClock } from '#lib/clock';
import type { KubeApiFactory } from '#lib/kube/types';
import { tcpProber } from '#lib/net/probe';
import type { NodeAccess, Runtime } from '#lib/runtime';
import { type Settings, settingsFromEnv } from '#lib/settings';
import { traceClient } from './tracer';

/**
 * Where a handler's {@link Runtime} comes from: in Lambda, the environment serverless.yml sets
 * and the SDK clients the handler declared; in a local run, the runtime the runner installs.
 */

const noNodeAccess: KubeApiFactory = () => {
  throw new Error('This function does not reach Kubernetes; its handler passes no node access.');
};

/**
 * The real thing: settings from the Lambda environment, the SDK clients of `classes`, and, for
 * the functions that reach Kubernetes, the EKS API (lib/kube/eks-nodes.ts, which only those functions
 * bundle).
 */
export function awsRuntime<K extends ServiceName>(
  settings: Settings,
  classes: ClientClasses<K>,
  nodes?: NodeAccess,
): Runtime<K> {
  // Node access brings the STS client it signs with; `classes` is all the handler itself reaches.
  // Each call is an X-Ray subsegment (a no-op outside Lambda: ./tracer.ts).
  const clients = createAwsClients({ region: settings.region, customize: traceClient }, {
    ...nodes?.clients,
    ...classes,
  } as ClientClasses<K>);
  return {
    settings,
    clients,
    clock: systemClock,
    nodes: nodes ? nodes.api(clients as unknown as Pick<AwsClients, 'sts'>) : noNodeAccess,
    prober: tcpProber,
  };
}

let installed: Runtime | undefined;

/**
 * The runtime of one handler: the installed one (the local runner's sandbox or AWS one, with
 * every client), else its own, built from the environment on first use with the clients it
 * declared.
 */
export function handlerRuntime<K extends ServiceName>(classes: ClientClasses<K>, nodes?: NodeAccess): () => Runtime<K> {
  let own: Runtime<K> | undefined;
  return () => {
    if (installed) return installed;
    own ??= awsRuntime(settingsFromEnv(process.env), classes, nodes);
    return own;
  };
}

/** The runtime installed for every handler, if any. */
export function installedRuntime(): Runtime | undefined {
  return installed;
}

/** Installs a runtime for every handler (the local runner's); undefined goes back to their own. */
export function installRuntime(next: Runtime | undefined): void {
  installed = next;
}
