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

/**
 * Each client's module is loaded the first time the client is used, not at cold start: a
 * function pays only for the SDK clients it calls (the EC2 client alone is several MB).
 */
const CONSTRUCTORS: { [K in ServiceName]: () => new (config: object) => AwsClients[K] } = {
  ssm: () => require('@aws-sdk/client-ssm').SSMClient,
  eks: () => require('@aws-sdk/client-eks').EKSClient,
  ec2: () => require('@aws-sdk/client-ec2').EC2Client,
  sfn: () => require('@aws-sdk/client-sfn').SFNClient,
  sns: () => require('@aws-sdk/client-sns').SNSClient,
  snsSingleAttempt: () => require('@aws-sdk/client-sns').SNSClient,
  sts: () => require('@aws-sdk/client-sts').STSClient,
  resolver: () => require('@aws-sdk/client-route53resolver').Route53ResolverClient,
  efs: () => require('@aws-sdk/client-efs').EFSClient,
  ce: () => require('@aws-sdk/client-cost-explorer').CostExplorerClient,
  s3: () => require('@aws-sdk/client-s3').S3Client,
};

/**
 * The real SDK v3 clients: one region, adaptive retry (client-side rate limiting when AWS
 * throttles), and a user agent that names this project in CloudTrail. Built on first use.
 */
export function createAwsClients(options: ClientOptions): AwsClients {
  const config = {
    region: options.region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 3,
    customUserAgent: 'eks-hybrid-ops',
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const built: Partial<Record<ServiceName, AnyClient>> = {};
  const clients = {} as AwsClients;
  for (const service of Object.keys(CONSTRUCTORS) as ServiceName[]) {
    Object.defineProperty(clients, service, {
      enumerable: true,
      get: () => {
        let client = built[service];
        if (!client) {
          const Client = CONSTRUCTORS[service]();
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
