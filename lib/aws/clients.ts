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
   * whether to send again (lib/sweep/publish.ts), not the SDK.
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
 * The real SDK v3 clients of the services in `classes`: one region, adaptive retry (client-side
 * rate limiting when AWS throttles), and a user agent that names this project in CloudTrail.
 * Each is built on first use.
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
          client = new Client({
            ...config,
            ...(service === 'ce' ? { region: 'us-east-1' } : {}),
            ...(service === 'snsSingleAttempt' ? { maxAttempts: 1 } : {}),
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
