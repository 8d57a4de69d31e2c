import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { EKSClient } from '@aws-sdk/client-eks';
import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsClients, type ClientClasses, type ClientOptions, createAwsClients } from './clients';

/**
 * Every client class, for what runs every workflow in one process: the CLI, the sandbox, tests.
 * Never imported by a Lambda handler: its bundle would carry all ten SDK clients
 * (test/infra/bundles.test.ts checks that each carries only its own).
 */
export const ALL_CLIENT_CLASSES: ClientClasses = {
  ssm: SSMClient,
  eks: EKSClient,
  ec2: EC2Client,
  sfn: SFNClient,
  sns: SNSClient,
  snsSingleAttempt: SNSClient,
  sts: STSClient,
  resolver: Route53ResolverClient,
  efs: EFSClient,
  ce: CostExplorerClient,
  s3: S3Client,
};

/** All the project's clients (see {@link createAwsClients}). */
export const createAllAwsClients = (options: ClientOptions): AwsClients =>
  createAwsClients(options, ALL_CLIENT_CLASSES);
