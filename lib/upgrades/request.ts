import { createHash, randomUUID } from 'node:crypto';
import { idHash, idSlug } from '../domain/ids';
import * as z from 'zod';
import { parseKubernetesVersion } from '../domain/kubernetes';
import { MAX_NODES_PER_UPGRADE, MAX_UNAVAILABLE, UPGRADE_TIMINGS } from './limits';
import { parseSelector } from './selector';

/** The body of `POST /upgrades`: a rolling upgrade of some hybrid nodes to a Kubernetes version. */

export const MAX_BODY_BYTES = 16 * 1024;
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const CLIENT_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;
/** A Node's name (with SSM credentials, its managed-instance id) or the DNS label it was onboarded under. */
const NODE_NAME = /^(mi-[0-9a-f]{17}|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/;

const t = UPGRADE_TIMINGS;

export const UpgradeRequestSchema = z.strictObject({
  clientToken: z
    .string({ error: 'clientToken must be a string of 1-64 letters, digits, and . _ : -' })
    .regex(CLIENT_TOKEN, 'clientToken must be 1-64 characters of letters, digits, and . _ : -')
    .optional(),
  cluster: z
    .string({
      error: (i) => (i.input === undefined ? 'cluster is required: the EKS cluster name' : 'cluster must be a string'),
    })
    .regex(CLUSTER_NAME, 'cluster must be an EKS cluster name: 1-100 letters, digits, - and _'),
  kubernetesVersion: z
    .string({ error: 'kubernetesVersion must be a string such as "1.33"' })
    .refine(
      (v) => /^\d+\.\d+$/.test(v) && parseKubernetesVersion(v) !== undefined,
      'kubernetesVersion must be major.minor, such as 1.33 (nodeadm installs its latest patch)',
    )
    .optional(),
  nodes: z
    .array(
      z
        .string({ error: 'each node must be a string' })
        .regex(NODE_NAME, 'each node must be a Node name (mi- and 17 hex digits) or the name it was onboarded under'),
      { error: 'nodes must be an array of Node names, or the names they were onboarded under' },
    )
    .min(1, 'nodes must name at least one node (leave it out for every hybrid node below the target)')
    .max(
      MAX_NODES_PER_UPGRADE,
      `nodes may name at most ${MAX_NODES_PER_UPGRADE} nodes a request (so its execution stays within Step Functions' 25,000-event history); split them into several requests`,
    )
    .refine((names) => new Set(names).size === names.length, 'nodes must not name a node twice')
    .optional(),
  selector: z
    .string({ error: 'selector must be a label selector string, such as "gpu=h100,zone!=lab"' })
    .min(1, 'selector must not be empty (leave it out for every hybrid node below the target)')
    .max(1024, 'selector must be at most 1024 characters')
    .superRefine((text, ctx) => {
      const parsed = parseSelector(text);
      if (!parsed.ok) for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  maxUnavailable: z
    .number({ error: `maxUnavailable must be a number: how many nodes to upgrade at once, 1-${MAX_UNAVAILABLE}` })
    .int(`maxUnavailable must be a whole number, 1-${MAX_UNAVAILABLE}`)
    .min(1, `maxUnavailable must be at least 1 (AWS recommends upgrading one node at a time)`)
    .max(MAX_UNAVAILABLE, `maxUnavailable must be at most ${MAX_UNAVAILABLE}`)
    .optional(),
  force: z.boolean({ error: 'force must be true or false' }).optional(),
  drainTimeoutSeconds: z
    .number({
      error: `drainTimeoutSeconds must be a number of seconds, ${t.minDrainTimeoutSeconds}-${t.maxDrainTimeoutSeconds}`,
    })
    .int(`drainTimeoutSeconds must be a whole number of seconds`)
    .min(t.minDrainTimeoutSeconds, `drainTimeoutSeconds must be at least ${t.minDrainTimeoutSeconds}`)
    .max(t.maxDrainTimeoutSeconds, `drainTimeoutSeconds must be at most ${t.maxDrainTimeoutSeconds} (an hour)`)
    .optional(),
});

export type UpgradeRequestBody = z.input<typeof UpgradeRequestSchema>;
export type UpgradeRequest = z.output<typeof UpgradeRequestSchema>;

/** One thing wrong with a request, as the API reports it. */
export interface Problem {
  field: string;
  message: string;
}

const FIELDS = Object.keys(UpgradeRequestSchema.shape).join(', ');

function toProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    const field = issue.path.join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') {
      return { field, message: `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}; allowed: ${FIELDS}` };
    }
    if (field === '(body)' && issue.code === 'invalid_type') {
      return { field, message: `the body must be a JSON object with the fields ${FIELDS}` };
    }
    return { field, message: issue.message };
  });
}

export type ParseResult = { ok: true; request: UpgradeRequest } | { ok: false; problems: Problem[] };

/** Validates a body already parsed from JSON, listing every problem. */
export function parseUpgradeRequest(body: unknown): ParseResult {
  const parsed = UpgradeRequestSchema.safeParse(body);
  const problems = parsed.success ? [] : toProblems(parsed.error);
  const raw = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (raw.nodes !== undefined && raw.selector !== undefined) {
    problems.push({
      field: 'nodes',
      message: 'give nodes or selector, not both (leave both out for every hybrid node below the target)',
    });
  }
  return parsed.success && problems.length === 0 ? { ok: true, request: parsed.data } : { ok: false, problems };
}

/** Parses a raw HTTP body: size, JSON, then schema. */
export function parseUpgradeBody(raw: string | null | undefined): ParseResult {
  if (raw === null || raw === undefined || raw.trim() === '') {
    return {
      ok: false,
      problems: [{ field: '(body)', message: `the body is empty; send a JSON object with the fields ${FIELDS}` }],
    };
  }
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    return {
      ok: false,
      problems: [{ field: '(body)', message: `the body is ${bytes} bytes; at most ${MAX_BODY_BYTES}` }],
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    return { ok: false, problems: [{ field: '(body)', message: `the body is not JSON: ${(error as Error).message}` }] };
  }
  return parseUpgradeRequest(body);
}

/**
 * The upgrade id: the execution name, and the value the node locks hold, so at most 63 characters
 * of [a-z0-9-]. With a client token it depends on the cluster and the token only (a retried POST
 * is the same upgrade; the same token with another body is a conflict); without, it reads as the
 * target, with a random suffix.
 */
export function deriveUpgradeId(request: Pick<UpgradeRequest, 'cluster' | 'clientToken'>, target: string): string {
  const token = request.clientToken;
  const hash = idHash('upgrade', request.cluster, token ?? randomUUID());
  return `${(token && idSlug(token)) || `upgrade-${idSlug(target)}`}-${hash}`;
}

/** A digest of what was asked, to tell a retried POST from a different one under the same token. */
export function requestDigest(request: UpgradeRequest): string {
  const sorted = Object.fromEntries(Object.entries(request).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
