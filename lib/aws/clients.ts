import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import type { MiddlewareStack } from '@smithy/types';

/** Every AWS client the project uses, passed into lib functions. */
export interface AwsClients {
  readonly ssm: SSMClient;
  readonly eks: EKSClient;
  readonly ec2: EC2Client;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  /**
   * SNS with one attempt per call, for alerts a function publishes itself: a publish whose answer
   * was lost may have gone out, and a standard topic does not deduplicate, so the caller decides
   * whether to send again (lib/sweep/publish-sweep-alerts.ts), not the SDK.
   */
  readonly snsSingleAttempt: SNSClient;
  readonly sts: STSClient;
  readonly resolver: Route53ResolverClient;
  readonly efs: EFSClient;
  readonly ce: CostExplorerClient;
  readonly s3: S3Client;
}

export type ServiceName = keyof AwsClients;

/** The AWS service a client calls (two clients may call one service with different settings). */
export const apiOf = (service: ServiceName): string => (service === 'snsSingleAttempt' ? 'sns' : service);
export type AnyClient = AwsClients[ServiceName];

export interface ClientOptions {
  region: string;
  /** Replaces the default credential chain (tests, the sandbox). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** SDK-level tries per call. Step Functions retries on top of this with its own backoff. */
  maxAttempts?: number;
  /** Replaces {@link CONNECTION_TIMEOUT_MS} (tests). */
  connectionTimeoutMs?: number;
  /** Called once on each client when it is first built (the sandbox plugs in here). */
  customize?: (client: AnyClient, service: ServiceName) => void;
}

/** The SDK client class of each service a function uses, as its handler names them. */
export type ClientClasses<K extends ServiceName = ServiceName> = {
  readonly [S in K]: new (config: ClientConfig) => AwsClients[S];
};
type ClientConfig = {
  region: string;
  retryMode: string;
  maxAttempts: number;
  customUserAgent: string;
  requestHandler: { connectionTimeout: number };
  credentials?: ClientOptions['credentials'];
};

/** The npm package of each client (what a function's bundle must carry for it). */
export const CLIENT_PACKAGES: { readonly [S in ServiceName]: string } = {
  ssm: '@aws-sdk/client-ssm',
  eks: '@aws-sdk/client-eks',
  ec2: '@aws-sdk/client-ec2',
  sfn: '@aws-sdk/client-sfn',
  sns: '@aws-sdk/client-sns',
  snsSingleAttempt: '@aws-sdk/client-sns',
  sts: '@aws-sdk/client-sts',
  resolver: '@aws-sdk/client-route53resolver',
  efs: '@aws-sdk/client-efs',
  ce: '@aws-sdk/client-cost-explorer',
  s3: '@aws-sdk/client-s3',
};

/**
 * The name of each client's service in AWS endpoint names, as VPC endpoints name it
 * (`com.amazonaws.<region>.<name>`: https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html).
 */
export const ENDPOINT_SERVICES: { readonly [S in ServiceName]: string } = {
  ssm: 'ssm',
  eks: 'eks',
  ec2: 'ec2',
  sfn: 'states',
  sns: 'sns',
  snsSingleAttempt: 'sns',
  sts: 'sts',
  resolver: 'route53resolver',
  efs: 'elasticfilesystem',
  ce: 'ce',
  s3: 's3',
};

/**
 * How long a client waits for a TCP connection to an AWS endpoint. The SDK's default is none: the
 * OS gives up after about two minutes, or the Lambda times out first. An AWS endpoint accepts a
 * connection in milliseconds; one that never does is not routed (a function in a VPC with neither
 * NAT nor a VPC endpoint of the service), which {@link explainUnreachable} then says.
 */
export const CONNECTION_TIMEOUT_MS = 3000;

/**
 * The real SDK v3 clients of the services in `classes`: one region, adaptive retry (client-side
 * rate limiting when AWS throttles), a connection timeout, and a user agent that names this
 * project in CloudTrail. Each is built on first use.
 *
 * A function's handler passes only the client classes it calls, so its bundle carries only those
 * SDK packages: this file imports none (lib/aws/all-clients.ts has them all, for the CLI and the
 * sandbox).
 */
export function createAwsClients<K extends ServiceName>(
  options: ClientOptions,
  classes: ClientClasses<K>,
): Pick<AwsClients, K> {
  const config: ClientConfig = {
    region: options.region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 3,
    customUserAgent: 'eks-hybrid-ops',
    requestHandler: { connectionTimeout: options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS },
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const built: Partial<Record<ServiceName, AnyClient>> = {};
  const clients = {} as Pick<AwsClients, K>;
  for (const service of Object.keys(classes) as K[]) {
    Object.defineProperty(clients, service, {
      enumerable: true,
      get: () => {
        let client = built[service];
        if (!client) {
          const Client = classes[service];
          // Cost Explorer answers only in us-east-1, whatever the account's Region.
          const region = service === 'ce' ? 'us-east-1' : config.region;
          client = new Client({ ...config, region, ...(service === 'snsSingleAttempt' ? { maxAttempts: 1 } : {}) });
          nameUnreachableEndpoint(client, {
            endpoint: `com.amazonaws.${region}.${ENDPOINT_SERVICES[service]}`,
            timeoutMs: config.requestHandler.connectionTimeout,
          });
          options.customize?.(client, service);
          built[service] = client;
        }
        return client;
      },
    });
  }
  return clients;
}

const UNREACHABLE = Symbol('the endpoint a connection was never made to');

/**
 * A connection that was never made, as @smithy/node-http-handler reports it when
 * `connectionTimeout` passes: a TimeoutError "...did not establish a connection with the server
 * within the configured timeout..." (4.x), or "Socket timed out without establishing a
 * connection..." (3.x, which client-route53resolver 3.654 carries). A request that timed out
 * after it connected ("socket timed out after N ms of inactivity") is not one.
 */
function isConnectTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError' && /establish(ing)? a connection/.test(error.message);
}

/** Marks a connect timeout, once the SDK has stopped retrying, with the endpoint it could not reach. */
function nameUnreachableEndpoint(client: AnyClient, mark: { endpoint: string; timeoutMs: number }): void {
  (client.middlewareStack as MiddlewareStack<object, object>).add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isConnectTimeout(error)) Object.defineProperty(error, UNREACHABLE, { value: mark });
        throw error;
      }
    },
    // Initialize is the outermost step: the retries (finalizeRequest) are inside it.
    { step: 'initialize', name: 'hybridopsUnreachableEndpoint', priority: 'low' },
  );
}

/**
 * What to say when a call never connected to AWS (the error, or one it was caused by): in a VPC
 * that is a missing route, which would otherwise show only as the Lambda timing out. Undefined
 * for any other error.
 */
export function explainUnreachable(error: unknown): { problem: string; fix: string } | undefined {
  let cause = error;
  for (let depth = 0; depth < 5 && cause instanceof Error && !isConnectTimeout(cause); depth += 1) {
    cause = (cause as Error).cause;
  }
  if (!isConnectTimeout(cause)) return undefined;
  const mark = (cause as Error & { [UNREACHABLE]?: { endpoint: string; timeoutMs: number } })[UNREACHABLE];
  const where = mark ? `${mark.endpoint} within ${mark.timeoutMs} ms` : 'an AWS API endpoint';
  return {
    problem:
      `No connection to ${where}, on any try. A function in a VPC ` +
      'reaches AWS APIs only through a NAT gateway or a VPC endpoint of the service.',
    fix:
      'Deploy with --param vpcEndpoints=true (with vpcId and vpcRouteTableIds) to create the endpoints the ' +
      "in-VPC functions need, or route their subnets through a NAT gateway. With endpoints in place, check the functions' " +
      'security group lets HTTPS out to them and the VPC has DNS support and DNS hostnames on.',
  };
}
