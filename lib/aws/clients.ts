import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

/** Every AWS client the project uses, built once per cold start and passed into lib functions. */
export interface AwsClients {
  ssm: SSMClient;
  eks: EKSClient;
  ec2: EC2Client;
  sfn: SFNClient;
  sns: SNSClient;
  sts: STSClient;
}

export type ServiceName = keyof AwsClients;

export interface ClientOptions {
  region: string;
  /** Replaces the default credential chain (tests, the sandbox). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** SDK-level tries per call. Step Functions retries on top of this with its own backoff. */
  maxAttempts?: number;
}

/**
 * Builds the real SDK v3 clients: one region, adaptive retry (client-side rate limiting when
 * AWS throttles), and a user agent that names this project in CloudTrail.
 */
export function createAwsClients(options: ClientOptions): AwsClients {
  const config = {
    region: options.region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 3,
    customUserAgent: 'eks-hybrid-ops',
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  return {
    ssm: new SSMClient(config),
    eks: new EKSClient(config),
    ec2: new EC2Client(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    sts: new STSClient(config),
  };
}
