import type { AwsClients } from '../aws/clients';
import { eksNodeReader } from './eks-node-reader';
import { createEksToken } from './eks-token';
import type { NodeReaderFactory } from './types';

/**
 * Node access through the EKS API, signed with the function's own credentials. Only the handlers
 * that read Nodes import this, so only their bundles carry the SigV4 signer.
 */
export const eksNodeAccess =
  (clients: AwsClients): NodeReaderFactory =>
  (cluster) =>
    eksNodeReader(cluster, async () =>
      createEksToken({
        clusterName: cluster.name,
        region: cluster.region,
        credentials: await clients.sts.config.credentials(),
      }),
    );
