import { runSimulation } from '@cloud-copilot/iam-simulate';
import { withServices } from '#lib/sandbox/index';
import { type SandboxCall, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxClusterArn } from '#lib/sandbox/state';
import { forSimulator, type IamRequest, iamRequestsOf, policyForSimulator } from './iam/requests';

/**
 * How IAM sees Run Command (Service Authorization Reference for SSM): SendCommand on the document
 * and on each managed instance with its tags, so a policy limited to AWS-RunShellScript on this
 * cluster's instances allows exactly that; GetCommandInvocation and ListCommandInvocations on "*".
 */

const estate = withServices(SandboxEstate.inMemory());
const { account, region } = estate.seed;
const AT = { account, region };
const OURS = 'mi-0a2b4c6d8e0f12342';
const THEIRS = 'mi-0b0b0b0b0b0b0b0b0';
estate.state.instances[THEIRS] = { ...estate.state.instances[OURS]!, instanceId: THEIRS, tags: [] };
const CLUSTER_ARN = sandboxClusterArn(estate.seed, 'gpu-hybrid-cluster');

/** The policy the issue asks for: the shell document only, on instances tagged for this cluster. */
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: `arn:aws:ssm:${region}::document/AWS-RunShellScript` },
    {
      Effect: 'Allow',
      Action: 'ssm:SendCommand',
      Resource: `arn:aws:ssm:${region}:${account}:managed-instance/*`,
      Condition: { StringEquals: { 'ssm:resourceTag/EKSClusterARN': CLUSTER_ARN } },
    },
    { Effect: 'Allow', Action: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'], Resource: '*' },
  ],
};

const call = (command: string, input: Record<string, unknown>): SandboxCall => ({ service: 'ssm', command, input });
const send = (DocumentName: string, InstanceIds: string[]) => call('SendCommand', { DocumentName, InstanceIds });

async function allowed(requests: IamRequest[]): Promise<boolean> {
  for (const r of requests) {
    const answer = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${account}:role/runNodeCommand`,
          action: r.action,
          resource: { resource: forSimulator(r.resource), accountId: account },
          contextVariables: r.context,
        },
        identityPolicies: [{ name: 'p', policy: policyForSimulator(POLICY) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (answer.resultType === 'error' || answer.overallResult !== 'Allowed') return false;
  }
  return true;
}

describe('IAM requests of SSM Run Command', () => {
  it('asks for SendCommand on the AWS-owned document and on the managed instance, with its tags', () => {
    const requests = iamRequestsOf(send('AWS-RunShellScript', [OURS]), estate, AT);

    expect(requests).toEqual([
      { action: 'ssm:SendCommand', resource: `arn:aws:ssm:${region}::document/AWS-RunShellScript`, context: {} },
      {
        action: 'ssm:SendCommand',
        resource: `arn:aws:ssm:${region}:${account}:managed-instance/${OURS}`,
        context: expect.objectContaining({
          'aws:ResourceTag/EKSClusterARN': CLUSTER_ARN,
          'ssm:resourceTag/EKSClusterARN': CLUSTER_ARN,
        }),
      },
    ]);
  });

  it('is allowed by that policy only for the shell document on a host tagged for the cluster', async () => {
    expect(await allowed(iamRequestsOf(send('AWS-RunShellScript', [OURS]), estate, AT))).toBe(true);
    expect(await allowed(iamRequestsOf(send('AWS-RunShellScript', [THEIRS]), estate, AT))).toBe(false);
    expect(await allowed(iamRequestsOf(send('AWS-RunPowerShellScript', [OURS]), estate, AT))).toBe(false);
  });

  it('asks for GetCommandInvocation and ListCommandInvocations on "*", the only resource they have', async () => {
    const get = iamRequestsOf(call('GetCommandInvocation', { CommandId: 'c', InstanceId: OURS }), estate, AT);
    const list = iamRequestsOf(call('ListCommandInvocations', { InstanceId: OURS }), estate, AT);

    expect([...get, ...list].map((r) => [r.action, r.resource])).toEqual([
      ['ssm:GetCommandInvocation', '*'],
      ['ssm:ListCommandInvocations', '*'],
    ]);
    expect(await allowed([...get, ...list])).toBe(true);
  });
});
