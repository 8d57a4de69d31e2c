import { request } from 'node:https';
import { AwsTransientError, KubernetesApiError } from '../errors';
import { type ClusterAccess, HYBRID_NODE_SELECTOR, type KubeNode, type NodeReader, toKubeNode } from './types';

const REQUEST_TIMEOUT_MS = 10_000;
const TLS_TRUST_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Reads Nodes through the cluster's Kubernetes API with an EKS token. Plain HTTPS with the
 * cluster's CA rather than @kubernetes/client-node: one GET is all it needs, and that client
 * is ESM-only and would add most of the bundle.
 */
export function eksNodeReader(cluster: ClusterAccess, token: () => Promise<string>): NodeReader {
  const ca = Buffer.from(cluster.certificateAuthority, 'base64');
  const base = new URL(cluster.endpoint);

  return {
    async *listHybridNodes(pageSize = 500): AsyncIterable<KubeNode[]> {
      let next: string | undefined;
      do {
        const query = new URLSearchParams({ labelSelector: HYBRID_NODE_SELECTOR, limit: String(pageSize) });
        if (next) query.set('continue', next);
        const { status, body } = await get(base, `/api/v1/nodes?${query}`, ca, await token());
        if (status !== 200) throw kubernetesFailure(cluster.name, status, body, 'list Nodes');
        const list = JSON.parse(body) as {
          items?: Parameters<typeof toKubeNode>[0][];
          metadata?: { continue?: string };
        };
        yield (list.items ?? []).map(toKubeNode);
        next = list.metadata?.continue || undefined;
      } while (next);
    },

    async getNode(name: string): Promise<KubeNode | undefined> {
      const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
      const { status, body } = await get(base, path, ca, await token());
      if (status === 404) return undefined;
      if (status === 200) return toKubeNode(JSON.parse(body));
      throw kubernetesFailure(cluster.name, status, body, `read Node ${name}`);
    },
  };
}

/**
 * The error for an answer other than 200 (or 404 on a read): a refusal names the access entry
 * and RBAC to fix; 429 and 5xx are transient and retried; anything else is reported as it came.
 */
export function kubernetesFailure(cluster: string, status: number, body: string, what: string): Error {
  if (status === 401 || status === 403) {
    return new KubernetesApiError(
      `The Kubernetes API of ${cluster} refused to let this function ${what} (HTTP ${status}).`,
      'Give the function role an EKS access entry in the hybridops-node-readers group and apply deploy/kubernetes/node-reader-rbac.yaml (nodes: get, list, watch).',
    );
  }
  if (status >= 500 || status === 429) {
    return new AwsTransientError(`The Kubernetes API of ${cluster} answered HTTP ${status}.`, 'None; retried.');
  }
  return new KubernetesApiError(
    `The Kubernetes API of ${cluster} answered HTTP ${status} when asked to ${what}: ${body.slice(0, 200)}`,
    'Check the cluster endpoint and the function role access entry.',
  );
}

function get(base: URL, path: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: base.hostname,
        port: base.port || 443,
        path,
        method: 'GET',
        ca,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new AwsTransientError(`No answer from ${base.host} in ${REQUEST_TIMEOUT_MS} ms.`, 'None; retried.')),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof AwsTransientError) return reject(error);
      // A certificate the cluster CA did not sign will not get better by retrying.
      if (TLS_TRUST_ERRORS.has(error.code ?? '')) {
        return reject(
          new KubernetesApiError(
            `The endpoint ${base.host} presented a certificate the cluster's CA does not vouch for (${error.code}).`,
            'Check the endpoint and certificate authority DescribeCluster returns; something else may be answering at that address.',
          ),
        );
      }
      reject(
        new AwsTransientError(
          `Cannot reach ${base.host}: ${error.message}.`,
          'If the cluster endpoint is private, run the function in the cluster VPC (serverless.yml vpc).',
        ),
      );
    });
    req.end();
  });
}
