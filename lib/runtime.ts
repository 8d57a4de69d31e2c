import { type AwsClients, createAwsClients } from './aws/clients';
import { type Clock, systemClock } from './clock';
import { eksNodeReader } from './kube/eks-node-reader';
import { createEksToken } from './kube/eks-token';
import type { NodeReaderFactory } from './kube/types';
import { type Settings, settingsFromEnv } from './settings';

/** Everything a handler needs, built once per cold start and handed to lib functions. */
export interface Runtime {
  settings: Settings;
  clients: AwsClients;
  clock: Clock;
  nodes: NodeReaderFactory;
}

/** The real thing: settings from the Lambda environment, SDK clients, the EKS API. */
export function awsRuntime(settings: Settings): Runtime {
  const clients = createAwsClients({ region: settings.region });
  return {
    settings,
    clients,
    clock: systemClock,
    nodes: (cluster) =>
      eksNodeReader(cluster, async () =>
        createEksToken({
          clusterName: cluster.name,
          region: cluster.region,
          credentials: await clients.sts.config.credentials(),
        }),
      ),
  };
}

let current: Runtime | undefined;

/** The runtime handlers use: built from the environment on first use, unless one was installed. */
export function runtime(): Runtime {
  current ??= awsRuntime(settingsFromEnv(process.env));
  return current;
}

/** Installs a runtime (the local runner's sandbox or AWS one); undefined goes back to the default. */
export function installRuntime(next: Runtime | undefined): void {
  current = next;
}
