import type { AwsClients, ClientClasses, ServiceName } from './aws/clients';
import type { Clock } from './clock';
import type { KubeApiFactory } from './kube/types';
import type { DnsLookup } from './net/dns';
import type { Prober } from './net/probe';
import type { Settings } from './settings';

/**
 * Everything a handler needs, built once per cold start (functions/commons/runtime.ts) and handed
 * to lib functions. `K` are the SDK clients the handler declared: the only ones its code can
 * reach, and the only ones bundled.
 */
export interface Runtime<K extends ServiceName = ServiceName> {
  settings: Settings;
  clients: Pick<AwsClients, K>;
  clock: Clock;
  /**
   * The clusters' Kubernetes API. A lib function takes the narrowest type it needs: a reader a
   * `NodeReaderFactory`, a writer a `KubeApiFactory`.
   */
  nodes: KubeApiFactory;
  /** Name resolution; real DNS when absent. */
  dns?: DnsLookup;
  /** TCP connect probes: real sockets in Lambda, link profiles in the sandbox. */
  prober: Prober;
}

/** How a function that reaches Kubernetes (Nodes, pods) does it, and the SDK client that takes. */
export interface NodeAccess {
  /** The client whose credentials sign the EKS token (a presigned STS request). */
  readonly clients: ClientClasses<'sts'>;
  readonly api: (clients: Pick<AwsClients, 'sts'>) => KubeApiFactory;
}
