import { type AwsClients, createAwsClients } from './aws/clients';
import { type Clock, systemClock } from './clock';
import type { NodeReaderFactory } from './kube/types';
import type { DnsLookup } from './net/dns';
import { type Prober, tcpProber } from './net/probe';
import { type Settings, settingsFromEnv } from './settings';

/** Everything a handler needs, built once per cold start and handed to lib functions. */
export interface Runtime {
  settings: Settings;
  clients: AwsClients;
  clock: Clock;
  nodes: NodeReaderFactory;
  /** Name resolution; real DNS when absent. */
  dns?: DnsLookup;
  /** TCP connect probes: real sockets in Lambda, link profiles in the sandbox. */
  prober: Prober;
}

/** How a function that reads Kubernetes Nodes reaches them, given its clients. */
export type NodeAccess = (clients: AwsClients) => NodeReaderFactory;

const noNodeAccess: NodeAccess = () => () => {
  throw new Error('This function does not read Kubernetes Nodes; its handler passes no node access.');
};

/**
 * The real thing: settings from the Lambda environment, SDK clients, and, for the functions
 * that read Nodes, the EKS API (lib/kube/eks-nodes.ts, which only those functions bundle).
 */
export function awsRuntime(settings: Settings, nodes: NodeAccess = noNodeAccess): Runtime {
  const clients = createAwsClients({ region: settings.region });
  return { settings, clients, clock: systemClock, nodes: nodes(clients), prober: tcpProber };
}

let current: Runtime | undefined;

/** The runtime handlers use: built from the environment on first use, unless one was installed. */
export function runtime(nodes?: NodeAccess): Runtime {
  current ??= awsRuntime(settingsFromEnv(process.env), nodes);
  return current;
}

/** Installs a runtime (the local runner's sandbox or AWS one); undefined goes back to the default. */
export function installRuntime(next: Runtime | undefined): void {
  current = next;
}
