import { STSClient } from '@aws-sdk/client-sts';
import type { NodeAccess } from '../runtime';
import { eksKubeApi } from './eks-kube-api';
import { createEksToken } from './eks-token';

/**
 * Kubernetes access through the EKS API, signed with the function's own credentials (those the
 * STS client resolves: the token is a presigned STS request). Only the handlers that reach
 * Kubernetes import this, so only their bundles carry the SigV4 signer and the STS client. What
 * each function may do there is its access entry's group (deploy/kubernetes/), not this code.
 */
export const eksNodeAccess: NodeAccess = {
  clients: { sts: STSClient },
  api: (clients) => (cluster) =>
    eksKubeApi(cluster, async () =>
      createEksToken({
        clusterName: cluster.name,
        region: cluster.region,
        credentials: await clients.sts.config.credentials(),
      }),
    ),
};
