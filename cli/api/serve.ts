import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { installRuntime } from '#functions/commons/runtime';
import type { SandboxEstate } from '#lib/sandbox/estate';
import { runExecutionsWith } from '#lib/sandbox/services/sfn';
import { type LocalRuntime, sandboxLocalRuntime } from '../local-runtime';
import { localStateMachines } from '../runner';
import { runSandboxExecutions } from '../sandbox-executions';
import { loadServerlessConfig, PROJECT_ROOT } from '../serverless-config';
import { lambdaContext, localFunctionName } from '../task-handlers';
import type { LocalWorkflow } from '../workflows/types';
import { type LocalIdentity, verifySigV4 } from './sigv4';

/**
 * `hybridops api serve`: the project's REST API on 127.0.0.1, against the sandbox estate, through
 * the same handlers as Lambda (each route of serverless.yml's `http` events, its handler found as
 * the local runner finds a Task's). Every route is AWS_IAM: a request must be SigV4-signed by a
 * known identity (./sigv4.ts), and its handler gets an API Gateway REST proxy event whose
 * `requestContext.identity` names the signer. Workflows the handlers start run in this process
 * with the local runner (../sandbox-executions.ts).
 */

/** The stage the local API reports (`requestContext.stage`); its paths are served with and without it. */
export const LOCAL_STAGE = 'local';

interface Route {
  method: string;
  /** `/nodes/{requestId}`. */
  resource: string;
  pattern: RegExp;
  params: string[];
  functionKey: string;
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
}

export interface LocalApi {
  url: string;
  local: LocalRuntime;
  close(): Promise<void>;
}

function routes(): { routes: Route[]; environment: Record<string, string>; refs: Record<string, string> } {
  const config = loadServerlessConfig('sandbox');
  const found: Route[] = [];
  let environment: Record<string, string> = {};
  const refs: Record<string, string> = {};
  for (const [key, fn] of Object.entries(config.functions)) {
    if (!fn.http.length) continue;
    environment = { ...environment, ...fn.environment };
    Object.assign(refs, fn.refs);
    const mod = require(join(PROJECT_ROOT, fn.module)) as Record<string, Route['handler']>;
    const handler = mod[fn.exportName];
    if (!handler) throw new Error(`${fn.module} has no export '${fn.exportName}'.`);
    for (const http of fn.http) {
      const params: string[] = [];
      const pattern = http.path
        .split('/')
        .map((part) => {
          const param = /^\{(.+)\}$/.exec(part)?.[1];
          if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          params.push(param);
          return '([^/]+)';
        })
        .join('/');
      found.push({
        method: http.method.toUpperCase(),
        resource: `/${http.path}`,
        pattern: new RegExp(`^/${pattern}$`),
        params,
        functionKey: key,
        handler,
      });
    }
  }
  return { routes: found, environment, refs };
}

/**
 * Starts serving on 127.0.0.1:`port` (0: any free port). `identities` are the credentials it
 * verifies signatures with: a request signed by any other key is refused, as API Gateway refuses
 * keys IAM does not know.
 */
export async function serveApi(
  estate: SandboxEstate,
  home: string,
  options: {
    port?: number;
    identities: LocalIdentity[];
    /** The workflows executions run (tests hold one at a person's step); every workflow when absent. */
    workflows?: Record<string, LocalWorkflow>;
  },
): Promise<LocalApi> {
  const served = routes();
  // `{ Ref: <StateMachine> }` in a function's environment is that state machine's ARN.
  const machines = localStateMachines('sandbox', estate.seed.region, estate.seed.account);
  const arns = Object.fromEntries(
    Object.entries(served.refs).flatMap(([name, id]) => {
      const arn = machines.find((m) => m.id === id)?.arn;
      return arn ? [[name, arn]] : [];
    }),
  );
  const local = sandboxLocalRuntime(estate, home, { ...served.environment, ...arns });
  runSandboxExecutions(local, options.workflows);
  // One runtime for every handler, the API's and the workflows' (runWorkflow leaves it installed).
  installRuntime(local.runtime);
  const byKey = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));

  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      send(response, 500, { 'x-amzn-errortype': 'InternalServerErrorException' }, { message: 'Internal server error' });
      process.stderr.write(`hybridops api: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    });
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = new URL(request.url ?? '/', 'http://local');
    const path = target.pathname.replace(new RegExp(`^/${LOCAL_STAGE}(?=/)`), '');
    const method = (request.method ?? 'GET').toUpperCase();
    const route = served.routes.find((r) => r.method === method && r.pattern.test(path));
    // API Gateway answers a route it does not have, signed or not, with this 403.
    if (!route) {
      send(
        response,
        403,
        { 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
        { message: 'Missing Authentication Token' },
      );
      return;
    }
    const headers = request.headers as Record<string, string | string[] | undefined>;
    const verdict = await verifySigV4({ method, url: request.url ?? '/', headers, body }, (key) => byKey.get(key));
    if (!verdict.ok) {
      send(response, 403, { 'x-amzn-errortype': verdict.errorType }, { message: verdict.message });
      return;
    }
    const values = route.pattern.exec(path)?.slice(1) ?? [];
    const event = proxyEvent(request, {
      route,
      path,
      query: target.searchParams,
      body,
      pathParameters: Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(values[i] ?? '')])),
      identity: verdict.identity,
      account: estate.seed.account,
    });
    const result = await route.handler(event, lambdaContext(estate.seed.region, localFunctionName(route.functionKey)));
    const answerHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
    response.writeHead(result.statusCode, { ...answerHeaders, 'x-amzn-requestid': event.requestContext.requestId });
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    local,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          installRuntime(undefined);
          runExecutionsWith(estate, undefined);
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** The API Gateway REST (proxy integration) event a Lambda would get for this request. */
function proxyEvent(
  request: IncomingMessage,
  parts: {
    route: Route;
    path: string;
    query: URLSearchParams;
    body: Buffer;
    pathParameters: Record<string, string>;
    identity: LocalIdentity;
    account: string;
  },
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    const value = request.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  // API Gateway adds X-Forwarded-Proto (https) to what it passes on; here the caller used http.
  headers['X-Forwarded-Proto'] = 'http';
  multiValueHeaders['X-Forwarded-Proto'] = ['http'];
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of parts.query) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const method = (request.method ?? 'GET').toUpperCase();
  const { identity } = parts;
  // A user's ARN names the user; any other principal is reported by its ARN as well.
  const caller = identity.arn.split(':').at(-1) ?? identity.arn;
  return {
    resource: parts.route.resource,
    path: parts.path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(parts.pathParameters).length ? parts.pathParameters : null,
    stageVariables: null,
    body: parts.body.length ? parts.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: parts.account,
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: method,
      // The path the caller used: no stage in it, as on a custom domain without a base path.
      path: parts.path,
      stage: LOCAL_STAGE,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: parts.route.resource,
      domainName: String(request.headers.host ?? '127.0.0.1'),
      identity: {
        accessKey: identity.accessKeyId,
        accountId: identity.arn.split(':')[4] ?? parts.account,
        apiKey: null,
        apiKeyId: null,
        caller,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: caller,
        userAgent: String(request.headers['user-agent'] ?? ''),
        userArn: identity.arn,
      },
    },
  };
}
