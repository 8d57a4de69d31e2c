import { createHash, randomUUID } from 'node:crypto';
import { idHash, idSlug } from '../domain/ids';
import * as z from 'zod';
import { cidrsOverlap, parseCidr } from '../domain/ipv4';
import {
  type OnboardingRequest,
  type OnboardingRequestBody,
  parseOnboardingRequest,
  type Problem,
  requestDigest,
} from '../onboarding/request';

export type { Problem };

/**
 * `POST /fleets`: many servers onboarded together. The fleet's own shape is checked here; each
 * server is then checked as `POST /nodes` checks a request (lib/onboarding/request.ts), built
 * from the fleet's defaults and the server's own fields, and its problems reported at the fleet
 * field they came from (`servers[3].ip`, `defaults.gpu.count`).
 */

export const FLEET_LIMITS = {
  maxServers: 100,
  /** The inline Map's concurrency ceiling the design keeps to (Step Functions runs at most 40 inline iterations at once). */
  maxConcurrency: 40,
  defaultMaxConcurrency: 10,
  /** About 1 KiB a server, with room. */
  maxBodyBytes: 128 * 1024,
} as const;

const CLIENT_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;

/** A server of the fleet: the onboarding request's `node`, its own GPU (null: none) and extra labels. */
const ServerSchema = z.strictObject(
  {
    name: z.unknown(),
    ip: z.unknown(),
    os: z.unknown(),
    podCidr: z.unknown().optional(),
    gpu: z.unknown().optional(),
    labels: z.unknown().optional(),
  },
  { error: 'each server must be an object {name, ip, os, podCidr?, gpu?, labels?}' },
);

/** What every server shares unless it says otherwise; each field is checked as POST /nodes checks it. */
const DefaultsSchema = z.strictObject(
  {
    kubernetesVersion: z.unknown().optional(),
    labels: z.unknown().optional(),
    taints: z.unknown().optional(),
    gpu: z.unknown().optional(),
    maxPods: z.unknown().optional(),
    activationExpiresInHours: z.unknown().optional(),
  },
  { error: 'defaults must be an object of the fields every server shares' },
);

/** The fleet's own shape; the fields it passes on to each onboarding are checked as POST /nodes checks them. */
export const FleetRequestShape = z.strictObject(
  {
    clientToken: z
      .string({ error: 'clientToken must be a string' })
      .regex(CLIENT_TOKEN, 'clientToken must be 1-64 characters of letters, digits, and . _ : -')
      .optional(),
    cluster: z.unknown(),
    defaults: DefaultsSchema.optional(),
    servers: z
      .array(ServerSchema, { error: 'servers is required: a list of {name, ip, os} (1-100 servers)' })
      .min(1, 'servers must list at least one server')
      .max(FLEET_LIMITS.maxServers, `servers may list at most ${FLEET_LIMITS.maxServers} servers a call`),
    maxConcurrency: z
      .number({ error: `maxConcurrency must be a number: 1-${FLEET_LIMITS.maxConcurrency}` })
      .int(`maxConcurrency must be a whole number, 1-${FLEET_LIMITS.maxConcurrency}`)
      .min(1, `maxConcurrency must be 1-${FLEET_LIMITS.maxConcurrency}`)
      .max(
        FLEET_LIMITS.maxConcurrency,
        `maxConcurrency must be 1-${FLEET_LIMITS.maxConcurrency} (the most servers a fleet onboards at once)`,
      )
      .optional(),
  },
  { error: 'the body must be a JSON object {cluster, servers, defaults?, maxConcurrency?, clientToken?}' },
);

type FleetShape = z.output<typeof FleetRequestShape>;

/** One server, as the onboarding request it becomes. */
export interface FleetMemberRequest {
  index: number;
  request: OnboardingRequest;
}

/** A fleet request whose every server is a valid onboarding request. */
export interface FleetRequest {
  clientToken?: string;
  cluster: string;
  maxConcurrency: number;
  members: FleetMemberRequest[];
}

export type FleetParse =
  | { ok: true; request: FleetRequest }
  | {
      ok: false;
      problems: Problem[];
      /** The servers that are valid requests on their own, for the checks against the cluster. */
      wellFormed: FleetMemberRequest[];
      cluster?: string;
    };

const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/** The onboarding body a server becomes: the defaults, then the server's own fields over them. */
export function memberBody(cluster: unknown, defaults: Record<string, unknown>, server: Record<string, unknown>) {
  const labels =
    isObject(defaults.labels) && isObject(server.labels)
      ? { ...defaults.labels, ...server.labels }
      : (server.labels ?? defaults.labels);
  const gpu = server.gpu === null ? undefined : server.gpu !== undefined ? server.gpu : defaults.gpu;
  const body: Record<string, unknown> = {
    cluster,
    node: { name: server.name, ip: server.ip, os: server.os, podCidr: server.podCidr },
    kubernetesVersion: defaults.kubernetesVersion,
    gpu,
    labels,
    taints: defaults.taints,
    maxPods: defaults.maxPods,
    activationExpiresInHours: defaults.activationExpiresInHours,
  };
  const node = body.node as Record<string, unknown>;
  if (node.podCidr === undefined) delete node.podCidr;
  for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key];
  return body as OnboardingRequestBody;
}

/** The fleet field an onboarding request's problem is about, for server `i`. */
function fleetField(field: string, i: number, server: Record<string, unknown>): string {
  const at = `servers[${i}]`;
  const node = /^node\.(name|ip|os|podCidr)(\..*)?$/.exec(field);
  if (node) return `${at}.${node[1]}${node[2] ?? ''}`;
  if (field === 'node') return at;
  if (field === 'gpu' || field.startsWith('gpu.'))
    return server.gpu !== undefined ? `${at}.${field}` : `defaults.${field}`;
  if (field === 'labels' || field.startsWith('labels.')) {
    const key = field.slice('labels.'.length);
    const own = isObject(server.labels) && (field === 'labels' ? true : key in server.labels);
    return own || (field === 'labels' && server.labels !== undefined) ? `${at}.${field}` : `defaults.${field}`;
  }
  if (field === 'cluster' || field === '(body)') return field;
  return `defaults.${field}`;
}

/** A member's message with its fields named as the fleet names them. */
const fleetMessage = (message: string, i: number) =>
  message.replace(/\bnode\.(name|ip|os|podCidr)\b/g, (_m, f: string) => `servers[${i}].${f}`);

function zodProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    const field =
      issue.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`)).join('') ||
      '(body)';
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length === 0 ? 'the fleet' : field;
      const allowed =
        issue.path.length === 0
          ? Object.keys(FleetRequestShape.shape)
          : issue.path[0] === 'defaults'
            ? Object.keys(DefaultsSchema.shape)
            : Object.keys(ServerSchema.shape);
      return {
        field,
        message: `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')} in ${where}; allowed: ${allowed.join(', ')}`,
      };
    }
    return { field, message: issue.message };
  });
}

/** Duplicate names and IPs, and overlapping pod CIDRs, between the fleet's servers. */
function fleetProblems(servers: Array<Record<string, unknown>>): Problem[] {
  const problems: Problem[] = [];
  const first = new Map<string, number>();
  servers.forEach((server, i) => {
    for (const key of ['name', 'ip'] as const) {
      const value = server[key];
      if (typeof value !== 'string') continue;
      const seen = first.get(`${key}:${value}`);
      if (seen === undefined) first.set(`${key}:${value}`, i);
      else
        problems.push({
          field: `servers[${i}].${key}`,
          message: `'${value}' is also servers[${seen}].${key}: each server of a fleet needs its own ${key === 'ip' ? 'IP address' : 'name'}`,
        });
    }
  });
  const cidrs = servers.flatMap((server, i) => {
    if (typeof server.podCidr !== 'string') return [];
    try {
      return [{ i, text: server.podCidr, cidr: parseCidr(server.podCidr) }];
    } catch {
      return []; // malformed: the server's own check reports it
    }
  });
  for (const b of cidrs) {
    const a = cidrs.find((c) => c.i < b.i && cidrsOverlap(c.cidr, b.cidr));
    if (a) {
      problems.push({
        field: `servers[${b.i}].podCidr`,
        message: `${b.text} overlaps servers[${a.i}].podCidr ${a.text}: each server needs a pod CIDR of its own`,
      });
    }
  }
  return problems;
}

/**
 * Validates a fleet body already parsed from JSON: the fleet's shape, each server as an onboarding
 * request (with the defaults), and duplicates between servers. Lists every problem; a problem of
 * the defaults is reported once, at `defaults.<field>`.
 */
export function parseFleetRequest(body: unknown, labelPrefix: string): FleetParse {
  const shape = FleetRequestShape.safeParse(body);
  const problems: Problem[] = shape.success ? [] : zodProblems(shape.error);
  const raw = isObject(body) ? body : {};
  const servers = Array.isArray(raw.servers) ? raw.servers.slice(0, FLEET_LIMITS.maxServers) : [];
  const defaults = isObject(raw.defaults) ? raw.defaults : {};
  const wellFormed: FleetMemberRequest[] = [];
  const seen = new Set(problems.map((p) => `${p.field}\n${p.message}`));
  const add = (p: Problem) => {
    const key = `${p.field}\n${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  };
  servers.forEach((server: unknown, i: number) => {
    if (!isObject(server)) return; // the fleet's shape reports it
    const member = parseOnboardingRequest(memberBody(raw.cluster, defaults, server), labelPrefix);
    if (member.ok) wellFormed.push({ index: i, request: member.request });
    else
      for (const p of member.problems)
        add({ field: fleetField(p.field, i, server), message: fleetMessage(p.message, i) });
  });
  for (const p of fleetProblems(servers.filter(isObject))) add(p);
  if (problems.length === 0 && shape.success && wellFormed.length === servers.length) {
    const fleet = shape.data as FleetShape;
    const cluster = wellFormed[0]?.request.cluster ?? String(raw.cluster);
    return {
      ok: true,
      request: {
        ...(fleet.clientToken ? { clientToken: fleet.clientToken } : {}),
        cluster,
        maxConcurrency: fleet.maxConcurrency ?? FLEET_LIMITS.defaultMaxConcurrency,
        members: wellFormed,
      },
    };
  }
  const cluster = wellFormed[0]?.request.cluster;
  return { ok: false, problems, wellFormed, ...(cluster ? { cluster } : {}) };
}

/** Parses a raw HTTP body: size, JSON, then {@link parseFleetRequest}. */
export function parseFleetBody(raw: string | null | undefined, labelPrefix: string): FleetParse {
  const rejected = (message: string): FleetParse => ({
    ok: false,
    problems: [{ field: '(body)', message }],
    wellFormed: [],
  });
  if (raw === null || raw === undefined || raw.trim() === '')
    return rejected('the body is empty; send a JSON fleet request');
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > FLEET_LIMITS.maxBodyBytes)
    return rejected(`the body is ${bytes} bytes; at most ${FLEET_LIMITS.maxBodyBytes}`);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    return rejected(`the body is not JSON: ${(error as Error).message}`);
  }
  return parseFleetRequest(body, labelPrefix);
}

/**
 * The fleet id, `fleet-<slug>-<hash12>`: also its execution's name, so at most 63 characters. With
 * a client token it depends on the cluster and the token only (a retried POST is the same fleet,
 * the token with another body a conflict) and reads as the token; without one it is random.
 */
export function deriveFleetId(request: Pick<FleetRequest, 'cluster' | 'clientToken'>): string {
  const token = request.clientToken;
  return `fleet-${idSlug(token ?? request.cluster) || 'servers'}-${idHash(request.cluster, token ?? randomUUID())}`;
}

/** A member's request id (its onboard-node execution's name): the server's name and a hash of the cluster, fleet and name. */
export function memberRequestId(cluster: string, fleetId: string, name: string): string {
  return `${name.slice(0, 40).replace(/-+$/, '')}-${idHash(cluster, fleetId, name)}`;
}

/** A digest of what was asked, to tell a retried POST from another body under the same token. */
export function fleetDigest(request: FleetRequest): string {
  const whole = {
    cluster: request.cluster,
    clientToken: request.clientToken ?? null,
    maxConcurrency: request.maxConcurrency,
    // Each member's request in order, each digested canonically (key order does not matter).
    members: request.members.map((m) => requestDigest(m.request)),
  };
  return createHash('sha256').update(JSON.stringify(whole)).digest('hex');
}
