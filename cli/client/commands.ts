import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { displayPath } from '../display';
import { UsageError } from '../local-runtime';
import { ApiLookupError, apiLocation } from './api-location';
import { follow, isEnded, POLL_SECONDS, TRANSIENT } from './follow';
import { collectNodes, fleetTable, isFleetServers, nodeTable } from './list-nodes';
import { refusalLines } from './refusals';
import { type Credentials, type SignedAnswer, signedFetch } from './signed-fetch';
import { writeSecretFile } from '../write-secret';

export const CLIENT_HELP = `Calling the deployed API (SigV4-signed, credentials from the AWS default chain):
  hybridops nodes add <request.json> [--wait]   POST /nodes
  hybridops nodes get <requestId> [--wait]      GET /nodes/{requestId}
  hybridops nodes list [--status S] [--limit 50]
                                                GET /nodes: onboarding requests, newest first;
                                                S: RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED
  hybridops nodes config <requestId> [--out nodeConfig.yaml] [--wait]
                                                the NodeConfig (mode 0600), nodeadm's commands;
                                                --wait: until it is issued
  hybridops nodes remove <node> [--input options.json] [--wait]
                                                DELETE /nodes/{node}, then GET /offboardings/{id}
  hybridops fleets add <fleet.json> [--wait] | get <fleetId> [--wait] | configs <fleetId> [--out dir]
  hybridops upgrades start <upgrade.json> [--wait] | get <upgradeId> [--wait]
  Where: --api <url> or HYBRIDOPS_API, else --stage <stage> (with --region, AWS_REGION or the
  profile's region): the ServiceEndpoint output of stack eks-hybrid-ops-<stage>; --region when the
  URL does not name one. --wait follows the request until it ends; --json prints one object.
`;

export interface ClientIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

export interface ClientDeps {
  credentials?: Credentials;
  /** Who signed, for a 403: the ARN GetCallerIdentity gives, else the access key id. */
  whoami?: (region: string, credentials: Credentials) => Promise<string>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface ClientValues {
  api?: string;
  region?: string;
  stage?: string;
  input?: string;
  out?: string;
  wait?: boolean;
  json?: boolean;
  status?: string;
  limit?: string;
}

/** What each resource's follow-up GET is, from the id its POST or DELETE answered with. */
interface Kind {
  id: 'requestId' | 'fleetId' | 'upgradeId';
  status: (id: string) => string;
}
const NODE: Kind = { id: 'requestId', status: (id) => `/nodes/${encodeURIComponent(id)}` };
const OFFBOARDING: Kind = { id: 'requestId', status: (id) => `/offboardings/${encodeURIComponent(id)}` };
const FLEET: Kind = { id: 'fleetId', status: (id) => `/fleets/${encodeURIComponent(id)}` };
const UPGRADE: Kind = { id: 'upgradeId', status: (id) => `/upgrades/${encodeURIComponent(id)}` };

/** Requests `nodes list` shows when --limit is not given. */
const LIST_LIMIT = 50;

/** `hybridops nodes|fleets|upgrades <verb> <arg>`: one call to the API (and, with --wait, its polls). */
export async function clientCommand(
  resource: string,
  verb: string | undefined,
  arg: string | undefined,
  values: ClientValues,
  io: ClientIo,
  env: NodeJS.ProcessEnv,
  deps: ClientDeps = {},
): Promise<number> {
  const action = `${resource} ${verb ?? ''}`.trim();
  const known = [
    'nodes add',
    'nodes get',
    'nodes list',
    'nodes config',
    'nodes remove',
    'fleets add',
    'fleets get',
    'fleets configs',
    'upgrades start',
    'upgrades get',
  ];
  if (!known.includes(action)) throw new UsageError(`unknown command '${action}'\n\n${CLIENT_HELP}`);
  const limit = values.limit === undefined ? LIST_LIMIT : Number(values.limit);
  if (action === 'nodes list') {
    if (arg) throw new UsageError(`nodes list takes no argument (filter with --status), not '${arg}'`);
    if (!/^\d+$/.test(values.limit ?? '1') || limit < 1)
      throw new UsageError(`--limit must be a whole number of requests, 1 or more, not '${values.limit}'`);
  } else if (!arg) {
    throw new UsageError(`${action} needs ${/add|start/.test(action) ? 'a request file' : 'an id'}\n\n${CLIENT_HELP}`);
  }
  const id = arg ?? '';
  const credentials = deps.credentials ?? defaultProvider();
  let where: Awaited<ReturnType<typeof apiLocation>>;
  try {
    where = await apiLocation(values, env, {
      credentials,
      identity: (region) => signerOf(region, credentials, deps.whoami),
    });
  } catch (error) {
    if (!(error instanceof ApiLookupError)) throw error;
    io.stderr.write(`hybridops: ${error.message}\n`);
    return 1;
  }
  const call = async (method: string, path: string, body?: string) => {
    try {
      return await signedFetch(method, `${where.base}${path}`, body, { region: where.region, credentials });
    } catch (error) {
      // fetch's own "fetch failed" hides why (refused, DNS, TLS): its cause says it
      const cause = (error as Error & { cause?: Error }).cause;
      throw new Error(`cannot call ${method} ${where.base}${path}: ${cause?.message ?? (error as Error).message}`, {
        cause: error,
      });
    }
  };
  const ctx: Context = { io, values, deps, where, credentials, call };

  switch (action) {
    case 'nodes add':
      return submit(ctx, 'POST', '/nodes', readBody(id), NODE);
    case 'fleets add':
      return submit(ctx, 'POST', '/fleets', readBody(id), FLEET);
    case 'upgrades start':
      return submit(ctx, 'POST', '/upgrades', readBody(id), UPGRADE);
    case 'nodes remove':
      return submit(
        ctx,
        'DELETE',
        `/nodes/${encodeURIComponent(id)}`,
        values.input ? removeOptions(readBody(values.input), values.input, id) : undefined,
        OFFBOARDING,
      );
    case 'nodes list':
      return listNodes(ctx, limit);
    case 'nodes get':
      return status(ctx, NODE, id);
    case 'fleets get':
      return status(ctx, FLEET, id);
    case 'upgrades get':
      return status(ctx, UPGRADE, id);
    case 'nodes config':
      return nodeConfig(ctx, id);
    default:
      return fleetConfigs(ctx, id);
  }
}

interface Context {
  io: ClientIo;
  values: ClientValues;
  deps: ClientDeps;
  where: { base: string; region: string };
  credentials: Credentials;
  call: (method: string, path: string, body?: string) => Promise<SignedAnswer>;
}

function readBody(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return text;
}

/**
 * The body of DELETE /nodes/{node}: its options. The input of `hybridops run offboard-node` names
 * the node too, which the API's options refuse (the node is in the path): the same name is dropped.
 */
function removeOptions(text: string, file: string, node: string): string {
  const options = JSON.parse(text) as Record<string, unknown>;
  if (options === null || typeof options !== 'object' || !('node' in options)) return text;
  if (options.node !== node) {
    throw new UsageError(`${file} names node ${JSON.stringify(options.node)}, but the command removes '${node}'`);
  }
  const { node: _node, ...rest } = options;
  return JSON.stringify(rest);
}

/** POST (or DELETE) a request; with --wait, follow it to its end. */
async function submit(ctx: Context, method: string, path: string, body: string | undefined, kind: Kind) {
  const answer = await ctx.call(method, path, body);
  if (answer.status !== 200 && answer.status !== 202) return refused(ctx, `${method} ${path}`, answer);
  const id = answer.body[kind.id];
  if (answer.status === 200 || typeof id !== 'string') {
    // DELETE /nodes/{node} of a node already gone: nothing was started (200, outcome already-gone).
    return done(ctx, answer.body, 0, [String(answer.body.message ?? JSON.stringify(answer.body))]);
  }
  const accepted = [
    `accepted: ${kind.id} ${id}`,
    // The URL it is followed at: the API's statusUrl names https://<its domain>, which a local
    // API (plain http) or a custom domain in front of it is not.
    `  status: ${ctx.where.base}${kind.status(id)}`,
  ];
  if (!ctx.values.wait) return done(ctx, answer.body, 0, accepted);
  if (!ctx.values.json) for (const line of accepted) ctx.io.stdout.write(`${line}\n`);
  return status(ctx, kind, id);
}

/** GET a request's status; with --wait, poll it until it ends. */
async function status(ctx: Context, kind: Kind, id: string) {
  const get = () => ctx.call('GET', kind.status(id));
  const answer = ctx.values.wait
    ? await follow(get, ctx.values.json ? undefined : ctx.io.stdout, {
        sleep: sleepOf(ctx),
        now: ctx.deps.now ?? Date.now,
      })
    : await get();
  if (answer.status !== 200) return refused(ctx, `GET ${kind.status(id)}`, answer);
  const s = answer.body.status;
  const code = isEnded(s) && s !== 'SUCCEEDED' ? 1 : 0;
  return done(ctx, answer.body, code, describe(answer.body));
}

const sleepOf = (ctx: Context) =>
  ctx.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

/** A field's value longer than this is shown cut, with where to see it whole. */
const LONGEST_VALUE = 160;

/**
 * A status body as lines: "STATUS phase", then each other field, one line each. An onboarding's
 * `result` is shown as its `brief` (status, node, instance, GPUs, warnings: what a team asks); any
 * value too long for a line is cut, and `--json` prints the answer whole.
 */
function describe(body: Record<string, unknown>): string[] {
  const { status: s, phase, result, ...rest } = body;
  const brief = (result as { brief?: unknown } | undefined)?.brief;
  const fields = Object.entries({
    ...rest,
    ...(brief && typeof brief === 'object' ? { brief } : result !== undefined ? { result } : {}),
  });
  return [
    `${String(s ?? '?')}${phase ? ` ${String(phase)}` : ''}`,
    ...fields.filter(([, v]) => v !== undefined).flatMap(([k, v]) => fieldLines(k, v)),
  ];
}

/** A list of texts (warnings, what was left) whole, one per line; anything else on one line. */
function fieldLines(key: string, value: unknown): string[] {
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) {
    return [`  ${key}:`, ...value.map((item) => `    - ${item}`)];
  }
  if (key === 'nodes' && isFleetServers(value))
    return ['  servers:', ...fleetTable(value).map((line) => `    ${line}`)];
  if (key === 'brief' && typeof value === 'object' && value !== null) {
    // its warnings are the answer's own `warnings` field (lib/onboarding/status.ts), shown once
    const { warnings: _shown, ...rest } = value as Record<string, unknown>;
    return [`  ${key}: ${oneLine(rest)}`];
  }
  return [`  ${key}: ${oneLine(value)}`];
}

function oneLine(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > LONGEST_VALUE ? `${text.slice(0, LONGEST_VALUE)}... (--json prints it whole)` : text;
}

/** `GET /nodes` page after page, up to `limit` requests: a table, or with --json one object. */
async function listNodes(ctx: Context, limit: number) {
  const listed = await collectNodes((query) => ctx.call('GET', `/nodes?${query}`), {
    limit,
    ...(ctx.values.status ? { status: ctx.values.status } : {}),
  });
  if ('refused' in listed) return refused(ctx, `GET ${listed.path}`, listed.refused);
  const { nodes, nextToken } = listed;
  const lines = nodes.length
    ? nodeTable(nodes)
    : [`no onboarding requests${ctx.values.status ? ` with status ${ctx.values.status}` : ''}`];
  if (nextToken) lines.push(`(the ${nodes.length} newest; more with --limit ${limit + LIST_LIMIT})`);
  return done(ctx, listed, 0, lines);
}

async function nodeConfig(ctx: Context, id: string) {
  const path = `/nodes/${encodeURIComponent(id)}/nodeconfig`;
  let answer = await ctx.call('GET', path);
  // 409 NodeConfigNotIssuedError (with retry-after) until the workflow has rendered it: --wait waits.
  while (ctx.values.wait && (answer.status === 409 || TRANSIENT.has(answer.status))) {
    const seconds = Number(answer.headers['retry-after']) || POLL_SECONDS;
    if (!ctx.values.json)
      ctx.io.stdout.write(`  not issued yet (HTTP ${answer.status}); asking again in ${seconds}s\n`);
    await sleepOf(ctx)(seconds * 1000);
    answer = await ctx.call('GET', path);
  }
  if (answer.status !== 200) return refused(ctx, `GET ${path}`, answer);
  const {
    nodeConfig: yaml,
    commands,
    fileName,
  } = answer.body as {
    nodeConfig?: string;
    commands?: string[];
    fileName?: string;
  };
  if (typeof yaml !== 'string') return refused(ctx, `GET ${path}`, { ...answer, status: 502 });
  const file = ctx.values.out ?? fileName ?? 'nodeConfig.yaml';
  writeSecretFile(file, yaml);
  // The NodeConfig holds the activation code: --json says where it is, never what it is.
  const { nodeConfig: _secret, ...shown } = answer.body;
  return done(ctx, { ...shown, file }, 0, [
    `NodeConfig for ${id} written to ${displayPath(file)} (mode 0600; it holds the activation code)`,
    'Copy it to the server, then run there:',
    ...(commands ?? []).map((c) => `  ${c}`),
  ]);
}

async function fleetConfigs(ctx: Context, id: string) {
  const path = `/fleets/${encodeURIComponent(id)}/nodeconfigs`;
  const answer = await ctx.call('GET', path);
  if (answer.status !== 200) return refused(ctx, `GET ${path}`, answer);
  const { nodeConfigs = [], pending = [] } = answer.body as {
    nodeConfigs?: Array<{ name: string; requestId: string; nodeConfig: string; commands?: string[] }>;
    pending?: Array<{ name: string; requestId: string }>;
  };
  const dir = ctx.values.out ?? id;
  const written = nodeConfigs.map(({ name, requestId, nodeConfig: yaml }) => {
    const file = join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'), 'nodeConfig.yaml');
    writeSecretFile(file, yaml);
    return { name, requestId, file };
  });
  const lines = [
    `${written.length} NodeConfig(s) written under ${displayPath(dir)}/ (mode 0600), ${pending.length} pending`,
    ...written.map((w) => `  ${w.name}: ${displayPath(w.file)}`),
    ...pending.map((p) => `  ${p.name}: pending (${p.requestId})`),
  ];
  const commands = nodeConfigs[0]?.commands;
  if (commands) lines.push('On each server, with its nodeConfig.yaml:', ...commands.map((c) => `  ${c}`));
  return done(ctx, { fleetId: id, written, pending }, 0, lines);
}

function done(ctx: Context, body: Record<string, unknown>, code: number, lines: string[]): number {
  if (ctx.values.json) ctx.io.stdout.write(`${JSON.stringify(body)}\n`);
  else for (const line of lines) ctx.io.stdout.write(`${line}\n`);
  return code;
}

/** A refusal as the API states it; exit 2 for bad input (400, 404), else 1. */
async function refused(ctx: Context, what: string, answer: SignedAnswer): Promise<number> {
  const identity =
    answer.status === 403 ? await signerOf(ctx.where.region, ctx.credentials, ctx.deps.whoami) : undefined;
  for (const line of refusalLines(what, answer, identity)) ctx.io.stderr.write(`hybridops: ${line}\n`);
  if (ctx.values.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({ status: 'REFUSED', httpStatus: answer.status, ...answer.body, ...(identity ? { identity } : {}) })}\n`,
    );
  }
  return answer.status === 400 || answer.status === 404 ? 2 : 1;
}

/** Who signed: GetCallerIdentity's ARN (needs no permission), else the access key id. */
async function signerOf(
  region: string,
  credentials: Credentials,
  whoami: ClientDeps['whoami'] = async (at, with_) =>
    (await new STSClient({ region: at, credentials: with_ }).send(new GetCallerIdentityCommand({}))).Arn ?? '',
): Promise<string> {
  try {
    const arn = await whoami(region, credentials);
    if (arn) return arn;
  } catch {
    // no STS (offline, a local API): name the key instead
  }
  try {
    const resolved = typeof credentials === 'function' ? await credentials() : credentials;
    return `access key ${resolved.accessKeyId}`;
  } catch {
    return 'no credentials found';
  }
}
