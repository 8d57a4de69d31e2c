import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { taskHandler } from '../commons/task-handler';
import { preflight } from '#lib/onboarding/preflight';
import { OnboardingInputSchema } from '#lib/onboarding/state';

/** Task Preflight: checks the cluster can take the node and takes the node's onboarding lock. */
export const { run, handler, clients } = taskHandler(
  OnboardingInputSchema,
  { eks: EKSClient, ec2: EC2Client, ssm: SSMClient },
  (input, rt) => preflight(rt, input),
);
