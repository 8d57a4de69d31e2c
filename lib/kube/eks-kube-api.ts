import { request } from 'node:https';
import { AwsTransientError, KubernetesApiError } from '../errors';
import {
  type ClusterAccess,
  type EvictionAnswer,
  HYBRID_NODE_SELECTOR,
  type KubeApi,
  type KubeNode,
  type KubePod,
  type PodRun,
  toKubeNode,
  toKubePod,
  toPodRun,
} from './types';

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

/** What the Kubernetes API answered: the HTTP status and the body as text. */
export interface KubeAnswer {
  status: number;
  body: string;
}

/**
 * Whose access a refused call lacks: reading Nodes is the readers' group (checkNode, cleanup, the
 * sweep); cordoning, draining and deleting are the operators' (deploy/kubernetes/).
 */
export type KubeAccess = 'reader' | 'operator' | 'gpu-checker';

const ACCESS_FIX: Record<KubeAccess, string> = {
  reader:
    'Give the function role an EKS access entry in the hybridops-node-readers group and apply deploy/kubernetes/node-reader-rbac.yaml (nodes: get, list, watch).',
  operator:
    'Give the function role an EKS access entry in the hybridops-node-operators group and apply deploy/kubernetes/node-operator-rbac.yaml (nodes: get, list, patch, delete; pods: get, list, delete; pods/eviction: create).',
  'gpu-checker':
    'Give the function role an EKS access entry in the hybridops-gpu-checkers group and apply deploy/kubernetes/gpu-check-rbac.yaml (its namespace; pods: create, get, delete; pods/log: get, in that namespace only).',
};

/**
 * The cluster's Kubernetes API as the workflows use it, with an EKS token. Plain HTTPS with the
 * cluster's CA rather than @kubernetes/client-node: a handful of REST calls is all it needs, and
 * that client is ESM-only and would add most of the bundle. The calls are kubectl's own for
 * `cordon`, `drain` and `delete node` (kubectl pkg/drain: cordon.go, drain.go).
 */
export function eksKubeApi(cluster: ClusterAccess, token: () => Promise<string>): KubeApi {
  const ca = Buffer.from(cluster.certificateAuthority, 'base64');
  const base = new URL(cluster.endpoint);
  const call = async (method: string, path: string, body?: { type: string; json: unknown }, accept?: string) =>
    send(base, ca, await token(), method, path, body, accept);
  const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;
  const podPath = (namespace: string, name: string) =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;

  return {
    async *listHybridNodes(pageSize = 500): AsyncIterable<KubeNode[]> {
      let next: string | undefined;
      do {
        const query = new URLSearchParams({ labelSelector: HYBRID_NODE_SELECTOR, limit: String(pageSize) });
        if (next) query.set('continue', next);
        const page = listAnswer(cluster.name, await call('GET', `/api/v1/nodes?${query}`), 'list Nodes', 'reader');
        yield page.items.map(toKubeNode);
        next = page.continue;
      } while (next);
    },

    async getNode(name) {
      return nodeAnswer(cluster.name, await call('GET', nodePath(name)), `read Node ${name}`, 'reader');
    },

    // kubectl cordon/uncordon: a strategic merge patch of spec.unschedulable (kubectl pkg/drain/cordon.go).
    async setUnschedulable(name, unschedulable) {
      const answer = await call('PATCH', nodePath(name), {
        type: 'application/strategic-merge-patch+json',
        json: { spec: { unschedulable } },
      });
      return nodeAnswer(cluster.name, answer, `${unschedulable ? 'cordon' : 'uncordon'} Node ${name}`, 'operator');
    },

    async deleteNode(name) {
      return deletedAnswer(cluster.name, await call('DELETE', nodePath(name)), `delete Node ${name}`);
    },

    // kubectl drain lists a node's pods by field selector, in chunks (kubectl pkg/drain/drain.go GetPodsForDeletion).
    async *listPodsOnNode(name, pageSize = 500): AsyncIterable<KubePod[]> {
      let next: string | undefined;
      do {
        const query = new URLSearchParams({ fieldSelector: `spec.nodeName=${name}`, limit: String(pageSize) });
        if (next) query.set('continue', next);
        const answer = await call('GET', `/api/v1/pods?${query}`);
        const page = listAnswer(cluster.name, answer, `list the pods on Node ${name}`, 'operator');
        yield page.items.map(toKubePod);
        next = page.continue;
      } while (next);
    },

    // The Eviction API: https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
    async evictPod(namespace, name) {
      const answer = await call('POST', `${podPath(namespace, name)}/eviction`, {
        type: 'application/json',
        json: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
      });
      return evictionAnswer(cluster.name, answer, `evict pod ${namespace}/${name}`);
    },

    async deletePod(namespace, name) {
      return deletedAnswer(
        cluster.name,
        await call('DELETE', podPath(namespace, name)),
        `delete pod ${namespace}/${name}`,
      );
    },

    // POST /api/v1/namespaces/{namespace}/pods (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#create-create-a-pod).
    async createPod(namespace, pod) {
      const answer = await call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
        type: 'application/json',
        json: pod,
      });
      return createdAnswer(cluster.name, answer, `create pod ${namespace}/${pod.metadata.name}`);
    },

    async getPod(namespace, name) {
      return podRunAnswer(cluster.name, await call('GET', podPath(namespace, name)), `read pod ${namespace}/${name}`);
    },

    // GET .../pods/{name}/log?limitBytes=N: the log from its start, cut at N bytes; it is text, not JSON
    // (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod).
    async readPodLog(namespace, name, limitBytes) {
      const query = new URLSearchParams({ limitBytes: String(limitBytes) });
      const answer = await call('GET', `${podPath(namespace, name)}/log?${query}`, undefined, 'text/plain');
      return logAnswer(cluster.name, answer, `read the log of pod ${namespace}/${name}`);
    },
  };
}

/**
 * A pod created: 201 (200 and 202 are the API's other success codes for a create); 409
 * AlreadyExists: one of that name is there (a retried create whose first answer was lost).
 */
export function createdAnswer(cluster: string, answer: KubeAnswer, what: string): 'created' | 'exists' {
  if (answer.status === 200 || answer.status === 201 || answer.status === 202) return 'created';
  if (answer.status === 409) return 'exists';
  throw kubernetesFailure(cluster, answer.status, answer.body, what, 'gpu-checker');
}

/** A pod read: its run, or undefined when there is none (404). */
export function podRunAnswer(cluster: string, answer: KubeAnswer, what: string): PodRun | undefined {
  if (answer.status === 404) return undefined;
  if (answer.status === 200) return toPodRun(JSON.parse(answer.body));
  throw kubernetesFailure(cluster, answer.status, answer.body, what, 'gpu-checker');
}

/** A pod's log: its text, or undefined when the pod is gone (404). */
export function logAnswer(cluster: string, answer: KubeAnswer, what: string): string | undefined {
  if (answer.status === 404) return undefined;
  if (answer.status === 200) return answer.body;
  throw kubernetesFailure(cluster, answer.status, answer.body, what, 'gpu-checker');
}

/**
 * What each call makes of an answer. The sandbox answers an injected fault through these same
 * functions (lib/sandbox/kubernetes.ts), so a faulted call there meets what it would meet here.
 */

/** A Node read or patched: the Node, or undefined when there is none (404). */
export function nodeAnswer(cluster: string, answer: KubeAnswer, what: string, access: KubeAccess) {
  if (answer.status === 404) return undefined;
  if (answer.status === 200) return toKubeNode(JSON.parse(answer.body));
  throw kubernetesFailure(cluster, answer.status, answer.body, what, access);
}

/** A Node or pod deleted: true, or false when it was not there (404). 202: accepted, finalizers pending. */
export function deletedAnswer(cluster: string, answer: KubeAnswer, what: string): boolean {
  if (answer.status === 404) return false;
  if (answer.status === 200 || answer.status === 202) return true;
  throw kubernetesFailure(cluster, answer.status, answer.body, what, 'operator');
}

/** One page of a list, and the token for the next (none on the last page). */
export function listAnswer(cluster: string, answer: KubeAnswer, what: string, access: KubeAccess) {
  if (answer.status !== 200) throw kubernetesFailure(cluster, answer.status, answer.body, what, access);
  const list = JSON.parse(answer.body) as { items?: object[]; metadata?: { continue?: string } };
  return { items: list.items ?? [], continue: list.metadata?.continue || undefined };
}

/**
 * The Eviction API's answer (https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/,
 * kubernetes pkg/registry/core/pod/storage/eviction.go): 2xx, the pod is being deleted (the API
 * server answers 201 Created with a Success Status); 404, it is gone (kubectl drain counts that as
 * done); 429, a PodDisruptionBudget allows no disruption now (or the API server's priority and
 * fairness throttled the call: either way, ask again later); 500 with the Status "This pod has more
 * than one PodDisruptionBudget, which the eviction subresource does not support.", refused until
 * someone fixes the budgets. The refusal carries the Status message and its causes ("The disruption
 * budget llm-inference needs 2 healthy pods and has 2 currently").
 */
export function evictionAnswer(cluster: string, answer: KubeAnswer, what: string): EvictionAnswer {
  const { status, body } = answer;
  if (status >= 200 && status < 300) return { outcome: 'evicting' };
  if (status === 404) return { outcome: 'gone' };
  const said = statusText(body);
  if (status === 429) return { outcome: 'refused', reason: said ?? 'HTTP 429 Too Many Requests' };
  if (status === 500 && said?.includes('PodDisruptionBudget')) return { outcome: 'refused', reason: said };
  throw kubernetesFailure(cluster, status, body, what, 'operator');
}

/** A Kubernetes Status body's message and its causes' messages, in one line; undefined for other bodies. */
function statusText(body: string): string | undefined {
  try {
    const status = JSON.parse(body) as { message?: string; details?: { causes?: Array<{ message?: string }> } };
    const parts = [status.message, ...(status.details?.causes ?? []).map((c) => c.message)].filter(Boolean);
    return parts.length ? parts.join(' ') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error for an answer a call does not expect: a refusal names the access entry and RBAC to
 * fix (the readers' or the operators'); 429 and 5xx are transient and retried, and so is 410 Gone,
 * an expired `continue` token, after which a list must start again from the first page
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks);
 * anything else is reported as it came.
 */
export function kubernetesFailure(
  cluster: string,
  status: number,
  body: string,
  what: string,
  access: KubeAccess = 'reader',
): Error {
  if (status === 401 || status === 403) {
    return new KubernetesApiError(
      `The Kubernetes API of ${cluster} refused to let this function ${what} (HTTP ${status}).`,
      ACCESS_FIX[access],
    );
  }
  if (status >= 500 || status === 429 || status === 410) {
    return new AwsTransientError(`The Kubernetes API of ${cluster} answered HTTP ${status}.`, 'None; retried.');
  }
  return new KubernetesApiError(
    `The Kubernetes API of ${cluster} answered HTTP ${status} when asked to ${what}: ${body.slice(0, 200)}`,
    'Check the cluster endpoint and the function role access entry.',
  );
}

function send(
  base: URL,
  ca: Buffer,
  token: string,
  method: string,
  path: string,
  body?: { type: string; json: unknown },
  accept = 'application/json',
): Promise<KubeAnswer> {
  const payload = body ? Buffer.from(JSON.stringify(body.json), 'utf8') : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: base.hostname,
        port: base.port || 443,
        path,
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          accept,
          ...(payload && body ? { 'content-type': body.type, 'content-length': payload.length } : {}),
        },
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
    req.end(payload);
  });
}
