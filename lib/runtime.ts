import { type AwsClients, type ClientClasses, createAwsClients, type ServiceName } from './aws/clients';
import { type Clock, systemClock } from './clock';
import type { NodeReaderFactory } from './kube/types';
import type { DnsLookup } from './net/dns';
import { type Prober, tcpProber } from './net/probe';
import { type Settings, settingsFromEnv } from './settings';

/**
 * Everything a handler needs, built once per cold start and handed to lib functions. `K` are the
 * SDK clients the handler declared: the only ones its code can reach, and the only ones bundled.
 */
export interface Runtime<K extends ServiceName = ServiceName> {
  settings: Settings;
  clients: Pick<AwsClients, K>;
  clock: Clock;
  nodes: NodeReaderFactory;
  /** Name resolution; real DNS when absent. */
  dns?: DnsLookup;
  /** TCP connect probes: real sockets in Lambda, link profiles in the sandbox. */
  prober: Prober;
}

/** How a function that reads Kubernetes Nodes reaches them, and the SDK client that takes. */
export interface NodeAccess {
  /** The client whose credentials sign the EKS token (a presigned STS request). */
  readonly clients: ClientClasses<'sts'>;
  readonly reader: (clients: Pick<AwsClients, 'sts'>) => NodeReaderFactory;
}

const noNodeAccess: NodeReaderFactory = () => {
  throw new Error('This function does not read Kubernetes Nodes; its handler passes no node access.');
};

/**
 * The real thing: settings from the Lambda environment, the SDK clients of `classes`, and, for
 * the functions that read Nodes, the EKS API (lib/kube/eks-nodes.ts, which only those functions
 * bundle).
 */
export function awsRuntime<K extends ServiceName>(
  settings: Settings,
  classes: ClientClasses<K>,
  nodes?: NodeAccess,
): Runtime<K> {
  // Node access brings the STS client it signs with; `classes` is all the handler itself reaches.
  const clients = createAwsClients({ region: settings.region }, { ...nodes?.clients, ...classes } as ClientClasses<K>);
  return {
    settings,
    clients,
    clock: systemClock,
    nodes: nodes ? nodes.reader(clients as unknown as Pick<AwsClients, 'sts'>) : noNodeAccess,
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

/** Installs a runtime for every handler (the local runner's); undefined goes back to their own. */
export function installRuntime(next: Runtime | undefined): void {
  installed = next;
}
