import { createHash, randomUUID } from 'node:crypto';
import { idHash, idSlug } from '../domain/ids';
import * as z from 'zod';
import { isIpv4, parseCidr } from '../domain/ipv4';
import {
  labelKeyProblem,
  labelValueProblem,
  parseKubernetesVersion,
  reservedLabelProblem,
  TAINT_EFFECTS,
} from '../domain/kubernetes';
import { judgeOs, normaliseOs } from '../domain/operating-systems';
import { InvalidRequestError } from '../errors';

/** Limits on an onboarding request. Activation expiry limits are SSM's (REFERENCE.md section 7). */
export const REQUEST_LIMITS = {
  maxBodyBytes: 16 * 1024,
  defaultExpiryHours: 24,
  maxExpiryHours: 30 * 24,
  maxLabels: 32,
  maxTaints: 16,
  maxGpuCount: 16,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** EKS cluster names: 1-100 characters, alphanumerics, '-' and '_', starting with an alphanumeric. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const CLIENT_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A type error that says whether the field is missing or of the wrong type, and what it should be.
 * Other issues keep their own messages.
 */
const typeError =
  (field: string, type: string, what: string) =>
  (issue: { code?: string; input?: unknown }): string | undefined =>
    issue.code !== 'invalid_type'
      ? undefined
      : issue.input === undefined
        ? `${field} is required: ${what}`
        : `${field} must be ${type}: ${what}`;

const labelKey = z.string().superRefine((key, ctx) => {
  const problem = labelKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: `label key '${key}': ${problem}` });
});
const labelValue = z.string().superRefine((value, ctx) => {
  const problem = labelValueProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `label ${problem}` });
});

const taint = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(TAINT_EFFECTS, { error: `effect must be one of ${TAINT_EFFECTS.join(', ')}` }),
});

const os = z
  .string({ error: typeError('node.os', 'a string', 'the OS id, such as ubuntu-22.04') })
  .superRefine((value, ctx) => {
    const verdict = judgeOs(value);
    if (!verdict.supported) ctx.addIssue({ code: 'custom', message: verdict.reason });
  })
  .transform(normaliseOs);

/** The body of `POST /nodes` and the core of every onboarding execution's input. */
export const OnboardingRequestSchema = z.strictObject({
  clientToken: z
    .string()
    .regex(CLIENT_TOKEN, 'clientToken must be 1-64 characters of letters, digits, and . _ : -')
    .optional(),
  cluster: z
    .string({ error: typeError('cluster', 'a string', 'the EKS cluster name') })
    .regex(CLUSTER_NAME, 'cluster must be an EKS cluster name: 1-100 letters, digits, - and _'),
  node: z.strictObject(
    {
      name: z
        .string({ error: typeError('node.name', 'a string', 'a DNS label such as gpu-node-01') })
        .regex(DNS_LABEL, 'node.name must be a DNS label: 1-63 lower-case letters, digits and -'),
      ip: z
        .string({ error: typeError('node.ip', 'a string', 'the IPv4 address the node will use') })
        .refine(isIpv4, 'node.ip must be an IPv4 address such as 192.168.10.21'),
      os,
      podCidr: z
        .string({ error: typeError('node.podCidr', 'a string', 'an IPv4 CIDR such as 10.244.1.0/24') })
        .superRefine((value, ctx) => {
          try {
            parseCidr(value);
          } catch (error) {
            const detail = (error as Error).message;
            ctx.addIssue({
              code: 'custom',
              message: `node.podCidr must be an IPv4 network such as 10.244.1.0/24: ${detail}`,
            });
          }
        })
        .optional(),
    },
    { error: typeError('node', 'an object', '{name, ip, os}') },
  ),
  kubernetesVersion: z
    .string()
    .refine((v) => parseKubernetesVersion(v) !== undefined, 'kubernetesVersion must look like 1.31')
    .optional(),
  gpu: z
    .strictObject({
      vendor: z.literal('nvidia', { error: 'gpu.vendor must be nvidia (the only GPU runtime the NodeConfig sets up)' }),
      model: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, 'gpu.model must be lower-case, e.g. h100'),
      count: z
        .number({ error: 'gpu.count must be a number' })
        .int('gpu.count must be a whole number')
        .min(1, 'gpu.count must be at least 1')
        .max(REQUEST_LIMITS.maxGpuCount, `gpu.count must be at most ${REQUEST_LIMITS.maxGpuCount}`),
      smokeTest: z
        .boolean({
          error:
            'gpu.smokeTest must be true or false: true runs nvidia-smi in a pod on the node once its GPUs are verified',
        })
        .optional(),
    })
    .optional(),
  labels: z
    .record(labelKey, labelValue, { error: typeError('labels', 'an object', 'label key: value strings') })
    .refine((l) => Object.keys(l).length <= REQUEST_LIMITS.maxLabels, `at most ${REQUEST_LIMITS.maxLabels} labels`)
    .optional(),
  taints: z
    .array(taint, { error: typeError('taints', 'an array', 'a list of {key, value, effect}') })
    .max(REQUEST_LIMITS.maxTaints, `at most ${REQUEST_LIMITS.maxTaints} taints`)
    .optional(),
  maxPods: z
    .number({ error: typeError('maxPods', 'a number', '1-250') })
    .int('maxPods must be a whole number, 1-250')
    .min(1, 'maxPods must be 1-250')
    .max(250, 'maxPods must be 1-250')
    .optional(),
  activationExpiresInHours: z
    .number({ error: 'activationExpiresInHours must be a number of hours' })
    .int('activationExpiresInHours must be a whole number of hours')
    .min(1, 'activationExpiresInHours must be at least 1')
    .max(REQUEST_LIMITS.maxExpiryHours, 'activationExpiresInHours must be at most 720 (30 days, the SSM limit)')
    .optional(),
});

export type OnboardingRequestBody = z.input<typeof OnboardingRequestSchema>;
export type OnboardingRequest = z.output<typeof OnboardingRequestSchema>;

/** One thing wrong with a request, as the API reports it. */
export interface Problem {
  field: string;
  message: string;
}

/** The fields an object at `path` of the request may have, for "unknown field" problems. */
function allowedFields(path: readonly PropertyKey[]): string {
  const unwrap = (schema: z.ZodType): z.ZodType =>
    schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
  let schema: z.ZodType | undefined = OnboardingRequestSchema;
  for (const key of path) {
    const current: z.ZodType = unwrap(schema);
    if (current instanceof z.ZodObject) schema = (current.shape as Record<PropertyKey, z.ZodType>)[key];
    else if (current instanceof z.ZodArray) schema = current.element as z.ZodType;
    else schema = undefined;
    if (!schema) return 'none';
  }
  const target = unwrap(schema);
  return target instanceof z.ZodObject ? Object.keys(target.shape).join(', ') : 'none';
}

function toProblems(error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const field = issue.path.join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') {
      const unknown = issue.keys.map((k) => `'${k}'`).join(', ');
      return [{ field, message: `unknown field(s) ${unknown}; allowed: ${allowedFields(issue.path)}` }];
    }
    // zod wraps a record key's own problem in a generic 'Invalid key in record'; report the key's.
    if (issue.code === 'invalid_key') return issue.issues.map((inner) => ({ field, message: inner.message }));
    if (field === '(body)' && issue.code === 'invalid_type') {
      return [{ field, message: `the body must be a JSON object with the fields ${allowedFields([])}` }];
    }
    return [{ field, message: issue.message }];
  });
}

/** Checks that depend on this project's settings, not on the cluster: reserved label prefixes. */
function settingProblems(body: unknown, labelPrefix: string): Problem[] {
  const labels = body && typeof body === 'object' ? (body as { labels?: unknown }).labels : undefined;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return [];
  return Object.keys(labels).flatMap((key) => {
    const problem = reservedLabelProblem(key, labelPrefix);
    return problem ? [{ field: `labels.${key}`, message: problem }] : [];
  });
}

export type ParseResult = { ok: true; request: OnboardingRequest } | { ok: false; problems: Problem[] };

/** Validates a request body already parsed from JSON. Lists every problem, not just the first. */
export function parseOnboardingRequest(body: unknown, labelPrefix: string): ParseResult {
  const parsed = OnboardingRequestSchema.safeParse(body);
  const problems = [...(parsed.success ? [] : toProblems(parsed.error)), ...settingProblems(body, labelPrefix)];
  return parsed.success && problems.length === 0 ? { ok: true, request: parsed.data } : { ok: false, problems };
}

/** Parses a raw HTTP body: size, JSON, then schema. */
export function parseOnboardingBody(raw: string | null | undefined, labelPrefix: string): ParseResult {
  if (raw === null || raw === undefined || raw.trim() === '') {
    return { ok: false, problems: [{ field: '(body)', message: 'the body is empty; send a JSON onboarding request' }] };
  }
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > REQUEST_LIMITS.maxBodyBytes) {
    return {
      ok: false,
      problems: [{ field: '(body)', message: `the body is ${bytes} bytes; at most ${REQUEST_LIMITS.maxBodyBytes}` }],
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    return { ok: false, problems: [{ field: '(body)', message: `the body is not JSON: ${(error as Error).message}` }] };
  }
  return parseOnboardingRequest(body, labelPrefix);
}

/** Throws {@link InvalidRequestError} listing every problem; for workflow steps that re-validate. */
export function assertOnboardingRequest(body: unknown, labelPrefix: string): OnboardingRequest {
  const result = parseOnboardingRequest(body, labelPrefix);
  if (result.ok) return result.request;
  throw new InvalidRequestError(
    `The onboarding request is invalid: ${result.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`,
    'Correct the listed fields and submit the request again.',
  );
}

/**
 * The request id: also the Step Functions execution name and the value of the node's request label,
 * so it is at most 63 characters of [a-z0-9-]. With a client token it depends on the cluster and
 * the token only, so a retried POST maps to the same execution and the same token with any other
 * body is a conflict; it reads as the token. Without one it reads as the node name, with a random
 * suffix.
 */
export function deriveRequestId(request: Pick<OnboardingRequest, 'cluster' | 'node' | 'clientToken'>): string {
  const token = request.clientToken;
  return `${idSlug(token ?? request.node.name) || 'request'}-${idHash(request.cluster, token ?? randomUUID())}`;
}

/** A digest of what was asked, to tell a retried POST from a different one under the same token. */
export function requestDigest(request: OnboardingRequest): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}

export function expiryHours(request: OnboardingRequest): number {
  return request.activationExpiresInHours ?? REQUEST_LIMITS.defaultExpiryHours;
}
