import { createHash, randomUUID } from 'node:crypto';
import { idHash, idSlug } from '../domain/ids';
import * as z from 'zod';

/**
 * `DELETE /nodes/{node}`: which node, and how to take it out. The options come in the JSON body,
 * in the query string, or both (the same value in both is fine; two values are a problem).
 */

export const OFFBOARDING_LIMITS = {
  maxBodyBytes: 4 * 1024,
  /**
   * How long PodDisruptionBudgets are honoured before the drain gives up (or, with `force`, deletes
   * the pods they protect). The default is EKS's own for managed node group updates: "If Pods don't
   * drain from a node within 15 minutes ... the update fails" unless forced
   * (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html). At most an
   * hour: each drain pass is a few history events and Step Functions keeps 25,000 per execution.
   */
  drainTimeoutSeconds: { min: 60, max: 3600, default: 900 },
} as const;

/** A Kubernetes Node name (an SSM hybrid node's is its managed-instance id) or the name it was onboarded as. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NODE_NAME_MAX = 253;
/** EKS cluster names: 1-100 characters, alphanumerics, '-' and '_', starting with an alphanumeric. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const CLIENT_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;
const { min, max } = OFFBOARDING_LIMITS.drainTimeoutSeconds;

/** The options of an offboarding, as the body (or the query string, read as text) gives them. */
export const OffboardingOptionsSchema = z.strictObject({
  cluster: z
    .string({ error: 'cluster must be a string: the EKS cluster name' })
    .regex(CLUSTER_NAME, 'cluster must be an EKS cluster name: 1-100 letters, digits, - and _')
    .optional(),
  force: z.boolean({ error: 'force must be true or false' }).optional(),
  drainTimeoutSeconds: z
    .number({ error: `drainTimeoutSeconds must be a whole number of seconds, ${min}-${max}` })
    .int(`drainTimeoutSeconds must be a whole number of seconds, ${min}-${max}`)
    .min(min, `drainTimeoutSeconds must be at least ${min}`)
    .max(max, `drainTimeoutSeconds must be at most ${max} (an hour)`)
    .optional(),
  skipUninstall: z.boolean({ error: 'skipUninstall must be true or false' }).optional(),
  clientToken: z
    .string({ error: 'clientToken must be a string' })
    .regex(CLIENT_TOKEN, 'clientToken must be 1-64 characters of letters, digits, and . _ : -')
    .optional(),
});
type Options = z.output<typeof OffboardingOptionsSchema>;
const OPTION_NAMES = Object.keys(OffboardingOptionsSchema.shape) as Array<keyof Options>;

/** A validated offboarding request, every default filled in. */
export interface OffboardingRequest {
  cluster: string;
  /** The node as asked for: its Node name (`mi-...`) or the name it was onboarded as. */
  node: string;
  /** After `drainTimeoutSeconds`, delete the pods PodDisruptionBudgets still protect. */
  force: boolean;
  drainTimeoutSeconds: number;
  /** Do not run `nodeadm uninstall` on the host (it is gone, or will be wiped). */
  skipUninstall: boolean;
  clientToken?: string;
}

export const OffboardingRequestSchema = z.object({
  cluster: z.string(),
  node: z.string(),
  force: z.boolean(),
  drainTimeoutSeconds: z.number().int().min(min).max(max),
  skipUninstall: z.boolean(),
  clientToken: z.string().optional(),
});

/** One thing wrong with a request, as the API reports it. */
export interface Problem {
  field: string;
  message: string;
}

export type ParseResult = { ok: true; request: OffboardingRequest } | { ok: false; problems: Problem[] };

export interface OffboardingAsk {
  /** The `{node}` path parameter. */
  node: unknown;
  /** The raw HTTP body: empty, or a JSON object of options. */
  body?: string | null;
  /** The query string's parameters. */
  query?: Record<string, string | undefined> | null;
}

/**
 * Validates `DELETE /nodes/{node}`: the node's name, the body and the query string. Lists every
 * problem, not just the first; a stage offboards from its own cluster only.
 */
export function parseOffboardingRequest(ask: OffboardingAsk, clusterName: string): ParseResult {
  const problems: Problem[] = [];
  const node = typeof ask.node === 'string' ? ask.node : '';
  if (!node) {
    problems.push({ field: 'node', message: 'the node is required: its Node name (mi-...) or its onboarded name' });
  } else if (node.length > NODE_NAME_MAX || !NODE_NAME.test(node)) {
    problems.push({
      field: 'node',
      message: `'${node.slice(0, 80)}' is not a node name: a Node name such as mi-0123456789abcdef0, or the name the node was onboarded as (lower-case letters, digits, - and ., at most ${NODE_NAME_MAX})`,
    });
  }
  const fromBody = parseBody(ask.body, problems);
  const fromQuery = parseQuery(ask.query ?? {}, problems);
  const options: Options = { ...fromQuery, ...fromBody };
  for (const name of OPTION_NAMES) {
    const [b, q] = [fromBody[name], fromQuery[name]];
    if (b !== undefined && q !== undefined && b !== q) {
      problems.push({
        field: name,
        message: `${name} is ${JSON.stringify(b)} in the body and ${JSON.stringify(q)} in the query string; give one value`,
      });
    }
  }
  if (options.cluster !== undefined && options.cluster !== clusterName) {
    problems.push({ field: 'cluster', message: `this deployment offboards nodes from '${clusterName}' only` });
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    request: {
      cluster: clusterName,
      node,
      force: options.force ?? false,
      drainTimeoutSeconds: options.drainTimeoutSeconds ?? OFFBOARDING_LIMITS.drainTimeoutSeconds.default,
      skipUninstall: options.skipUninstall ?? false,
      ...(options.clientToken ? { clientToken: options.clientToken } : {}),
    },
  };
}

/** Problems of the body (`prefix` empty) or the query string (`query.`), each named by its field. */
function toProblems(error: z.ZodError, prefix: '' | 'query.'): Problem[] {
  return error.issues.map((issue): Problem => {
    const whole = prefix ? '(query)' : '(body)';
    const field = issue.path.length ? `${prefix}${issue.path.join('.')}` : whole;
    if (issue.code === 'unrecognized_keys') {
      const unknown = issue.keys.map((k) => `'${k}'`).join(', ');
      return { field, message: `unknown option(s) ${unknown}; allowed: ${OPTION_NAMES.join(', ')}` };
    }
    if (!issue.path.length && issue.code === 'invalid_type') {
      return { field, message: `the body must be empty or a JSON object with the options ${OPTION_NAMES.join(', ')}` };
    }
    return { field, message: issue.message };
  });
}

function parseBody(raw: string | null | undefined, problems: Problem[]): Options {
  if (raw === null || raw === undefined || raw.trim() === '') return {};
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > OFFBOARDING_LIMITS.maxBodyBytes) {
    problems.push({
      field: '(body)',
      message: `the body is ${bytes} bytes; at most ${OFFBOARDING_LIMITS.maxBodyBytes}`,
    });
    return {};
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    problems.push({ field: '(body)', message: `the body is not JSON: ${(error as Error).message}` });
    return {};
  }
  const parsed = OffboardingOptionsSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  problems.push(...toProblems(parsed.error, ''));
  return {};
}

/** Query strings carry text: `true`/`false` and whole numbers are read as such, anything else is refused as it is. */
function parseQuery(query: Record<string, string | undefined>, problems: Problem[]): Options {
  const typed: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(query)) {
    if (text === undefined) continue;
    typed[name] =
      text === 'true'
        ? true
        : text === 'false'
          ? false
          : name === 'drainTimeoutSeconds' && /^\d{1,9}$/.test(text)
            ? Number(text)
            : text;
  }
  const parsed = OffboardingOptionsSchema.safeParse(typed);
  if (parsed.success) return parsed.data;
  problems.push(...toProblems(parsed.error, 'query.'));
  return {};
}

/**
 * The request id: the execution's name, so at most 63 characters of [a-z0-9-]. It reads as the
 * node; its suffix is a hash of the cluster, the node and the client token, so a retried DELETE
 * with the same token maps to the same execution. Without a token every request is a new one.
 */
export function deriveRequestId(request: Pick<OffboardingRequest, 'cluster' | 'node' | 'clientToken'>): string {
  const hash = idHash('offboard', request.cluster, request.node, request.clientToken ?? randomUUID());
  return `${idSlug(request.node) || 'node'}-${hash}`;
}

/** What was asked, canonically: a retried DELETE (same token, same options) is the same request. */
export function requestDigest(request: OffboardingRequest): string {
  const { cluster, node, force, drainTimeoutSeconds, skipUninstall, clientToken } = request;
  return createHash('sha256')
    .update(JSON.stringify({ cluster, node, force, drainTimeoutSeconds, skipUninstall, clientToken }))
    .digest('hex');
}
