import { STSClient } from '@aws-sdk/client-sts';
import type { NodeAccess } from '../runtime';
import { eksKubeApi } from './eks-kube-api';
import { createEksToken } from './eks-token';

/**
 * Node access through the EKS API, signed with the function's own credentials (those the STS
 * client resolves: the token is a presigned STS request). Only the handlers that read Nodes
 * import this, so only their bundles carry the SigV4 signer and the STS client.
 */
export const eksNodeAccess: NodeAccess = {
  clients: { sts: STSClient },
  reader: (clients) => (cluster) =>
    eksKubeApi(cluster, async () =>
      createEksToken({
        clusterName: cluster.name,
        region: cluster.region,
        credentials: await clients.sts.config.credentials(),
      }),
    ),
};
