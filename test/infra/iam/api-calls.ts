import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  GetParametersCommand,
  GetServiceSettingCommand,
  ListTagsForResourceCommand,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { systemClock } from '#lib/clock';
import { getFleet, getFleetNodeConfigs } from '#lib/fleets/status';
import { submitFleet } from '#lib/fleets/submit';
import { RequestRefusedError } from '#lib/errors';
import type { KubeApiFactory, KubeNode } from '#lib/kube/types';
import { startReconcile } from '#lib/network/api';
import { getOffboarding } from '#lib/offboarding/status';
import { submitOffboarding } from '#lib/offboarding/submit';
import type { SandboxCall } from '#lib/sandbox/estate';
import { listOnboardings } from '#lib/onboarding/list';
import { getNodeConfig, getOnboarding } from '#lib/onboarding/status';
import { submitOnboarding } from '#lib/onboarding/submit';
import { s3Store } from '#lib/store';
import { getUpgrade } from '#lib/upgrades/status';
import { submitUpgrade, upgradeExecutionInput } from '#lib/upgrades/submit';
import {
  CLUSTER_ARN,
  eksCluster,
  gpuRequestBody,
  INSTANCE_ID,
  nodeConfigResult,
  onboardingInput,
  REQUEST_ID,
  REQUESTER,
  registeredInstances,
  seedVpcs,
  settings,
  ssmTier,
} from '#test/helpers/onboarding-fixtures';
import type { Template } from '#test/helpers/package-stack';
import type { StackAccount } from './stack';

/**
 * The API functions call Step Functions, which the sandbox does not simulate: their requests are
 * taken from the real lib code run against aws-sdk-client-mock (each function's usual answers),
 * as the calls each sent.
 */
export async function apiCalls(
  at: StackAccount,
  template: Template,
): Promise<Array<{ principal: string; call: SandboxCall }>> {
  const stateMachine = (logicalId: string) =>
    `arn:aws:states:${at.region}:${at.account}:stateMachine:${template.Resources[logicalId]?.Properties.StateMachineName as string}`;
  const onboard = stateMachine('OnboardNodeStateMachine');
  const stageSettings = {
    ...settings(),
    stage: 'sandbox',
    parameterPrefix: '/eks-hybrid-ops/sandbox',
    onboardStateMachineArn: onboard,
  };
  const clients = { sfn: new SFNClient({}), eks: new EKSClient({}), ec2: new EC2Client({}), ssm: new SSMClient({}) };
  const sfn = mockClient(clients.sfn);
  const eks = mockClient(clients.eks);
  const ec2 = mockClient(clients.ec2);
  const ssm = mockClient(clients.ssm);
  /** What the collection needs of a mock, whatever its client. */
  interface Sent {
    calls(): Array<{ args: unknown[] }>;
    restore(): void;
  }
  const mocks: Record<string, Sent> = { sfn, eks, ec2, ssm } as unknown as Record<string, Sent>;
  const found: Array<{ principal: string; call: SandboxCall }> = [];
  const take = async (principal: string, run: () => Promise<unknown>) => {
    // (Not resetHistory: sinon counts a stub's "once" answers by its call history.)
    const before = Object.fromEntries(Object.entries(mocks).map(([service, mock]) => [service, mock.calls().length]));
    await run();
    for (const [service, mock] of Object.entries(mocks)) {
      for (const sent of mock.calls().slice(before[service])) {
        const command = sent.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
        found.push({
          principal,
          call: { service, command: command.constructor.name.replace(/Command$/, ''), input: command.input, principal },
        });
      }
    }
  };

  const started = {
    executionArn: `${onboard.replace(':stateMachine:', ':execution:')}:${REQUEST_ID}`,
    startDate: new Date(),
  };
  const input = JSON.stringify({ ...onboardingInput(), requester: REQUESTER });
  eks.on(DescribeClusterCommand).resolves({ cluster: eksCluster() });
  ec2.on(DescribeVpcsCommand).resolves(seedVpcs());
  sfn
    .on(StartExecutionCommand)
    .resolvesOnce(started)
    .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
  sfn.on(DescribeExecutionCommand).resolves({ ...started, status: 'RUNNING', input, stateMachineArn: onboard });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
  // The SSM quota check: the activation tier, and the account's on-prem managed instances.
  ssm.on(GetServiceSettingCommand).resolves(ssmTier());
  ssm.on(DescribeInstanceInformationCommand).resolves(registeredInstances());
  ssm.on(GetParameterCommand).resolves({
    Parameter: {
      Value: JSON.stringify({
        nodeConfig: 'apiVersion: node.eks.aws/v1alpha1',
        commands: nodeConfigResult().commands,
      }),
    },
  });

  // A refusal is an answer too (functions/commons/http-answers.ts): what it asked AWS is what counts.
  const answered = (promise: Promise<unknown>) =>
    promise.catch((error: unknown) => {
      if (!(error instanceof RequestRefusedError)) throw error;
    });
  const submit = () =>
    answered(
      submitOnboarding(
        { clients, settings: stageSettings },
        { body: JSON.stringify(gpuRequestBody()), requester: REQUESTER, baseUrl: 'https://api.example' },
      ),
    );
  // A new request, then the same request again (the execution exists: it is described).
  await take('submitOnboarding', submit);
  await take('submitOnboarding', submit);
  await take('getOnboarding', () => getOnboarding({ sfn: clients.sfn, settings: stageSettings }, REQUEST_ID));
  sfn.on(ListExecutionsCommand).resolves({
    executions: [{ ...started, stateMachineArn: onboard, name: REQUEST_ID, status: 'RUNNING' }],
  });
  await take('listOnboardings', () =>
    listOnboardings({ sfn: clients.sfn, settings: stageSettings }, { status: 'RUNNING', limit: '10' }),
  );
  await take('getNodeConfig', () =>
    getNodeConfig({ sfn: clients.sfn, ssm: clients.ssm, settings: stageSettings }, REQUEST_ID, REQUESTER),
  );
  sfn.on(StartExecutionCommand).resolves(started);
  await take('startReconcile', () =>
    startReconcile(
      { sfn: clients.sfn, stateMachineArn: stateMachine('ReconcileNetworkStateMachine') },
      { body: '{"mode":"plan"}', requester: REQUESTER },
    ),
  );

  // DELETE /nodes/{node}: the node looked up (its Node through the Kubernetes API, which is not
  // IAM; its managed instance's tags; its lock), then the offboarding started, then asked again.
  const offboard = stateMachine('OffboardNodeStateMachine');
  const offboardSettings = { ...stageSettings, offboardStateMachineArn: offboard };
  const offboarded = {
    executionArn: `${offboard.replace(':stateMachine:', ':execution:')}:gpu-node-01-0123456789ab`,
    startDate: new Date(),
  };
  const node: KubeNode = {
    name: INSTANCE_ID,
    labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
    internalIps: ['192.168.10.21'],
    capacity: { cpu: '224' },
    allocatable: { cpu: '224' },
    unschedulable: false,
  };
  const nodes = (() => ({
    getNode: async (name: string) => (name === INSTANCE_ID ? node : undefined),
  })) as unknown as KubeApiFactory;
  ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID }] });
  ssm.on(ListTagsForResourceCommand).resolves({
    TagList: [
      { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
      { Key: 'hybridops:node-name', Value: 'gpu-node-01' },
    ],
  });
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'no lock' }));
  sfn
    .on(StartExecutionCommand)
    .resolvesOnce(offboarded)
    .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
  const offboardInput = () =>
    JSON.parse(
      (sfn.commandCalls(StartExecutionCommand).at(-1)?.args[0].input.input as string | undefined) ?? '{}',
    ) as unknown;
  const deleteNode = () =>
    answered(
      submitOffboarding(
        { clients, nodes, clock: systemClock, settings: offboardSettings },
        {
          ask: { node: 'gpu-node-01', body: JSON.stringify({ clientToken: 'retire-1' }) },
          requester: REQUESTER,
          baseUrl: 'https://api.example',
        },
      ),
    );
  await take('submitOffboarding', deleteNode);
  sfn
    .on(DescribeExecutionCommand)
    .resolves({ ...offboarded, status: 'RUNNING', input: JSON.stringify(offboardInput()) });
  await take('submitOffboarding', deleteNode);
  await take('getOffboarding', () =>
    getOffboarding({ sfn: clients.sfn, settings: offboardSettings }, 'gpu-node-01-0123456789ab'),
  );

  // POST /upgrades (new, then again: the execution exists) and GET /upgrades/{id}.
  const upgrade = stateMachine('UpgradeNodesStateMachine');
  const upgradeSettings = { ...stageSettings, upgradeStateMachineArn: upgrade };
  const upgradeId = 'upgrade-1-33-0123456789ab';
  const upgradeStarted = {
    executionArn: `${upgrade.replace(':stateMachine:', ':execution:')}:${upgradeId}`,
    startDate: new Date(),
  };
  sfn
    .on(StartExecutionCommand)
    .resolvesOnce(upgradeStarted)
    .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
  const upgradeBody = JSON.stringify({ cluster: stageSettings.clusterName, clientToken: 'roll-1' });
  const submitted = upgradeExecutionInput(
    { request: { cluster: stageSettings.clusterName, clientToken: 'roll-1' }, target: '1.33' },
    REQUESTER,
    upgradeSettings,
  );
  sfn.on(DescribeExecutionCommand).resolves({ ...upgradeStarted, status: 'RUNNING', input: JSON.stringify(submitted) });
  const upgradeSubmit = () =>
    answered(
      submitUpgrade(
        { clients, settings: upgradeSettings },
        { body: upgradeBody, requester: REQUESTER, baseUrl: 'https://api.example' },
      ),
    );
  await take('submitUpgrade', upgradeSubmit);
  await take('submitUpgrade', upgradeSubmit);
  // GET reads the run store: the plan and the waves it finds, NoSuchKey for those not written.
  const s3 = mockClient(S3Client);
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: {}, message: 'The specified key does not exist.' }));
  mocks.s3 = s3 as unknown as Sent;
  const bucket = at.names.SweepBucket ?? 'run-store';
  await take('getUpgrade', () =>
    getUpgrade({ sfn: clients.sfn, store: s3Store(new S3Client({}), bucket), settings: upgradeSettings }, upgradeId),
  );

  // POST /fleets (new: the manifest, then the execution; then again: found, nothing written),
  // GET /fleets/{id} while it runs (each server's execution) and after (the result, then the
  // servers when it is missing), GET /fleets/{id}/nodeconfigs (ten a call).
  const fleetMachine = stateMachine('OnboardFleetStateMachine');
  const fleetSettings = { ...stageSettings, fleetStateMachineArn: fleetMachine, storeBucket: bucket };
  const fleetStore = s3Store(new S3Client({}), bucket);
  s3.on(PutObjectCommand).resolves({});
  ssm.on(GetParametersCommand).callsFake((i: { Names: string[] }) => ({ Parameters: [], InvalidParameters: i.Names }));
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  sfn.on(DescribeExecutionCommand).rejectsOnce(new ExecutionDoesNotExist({ $metadata: {}, message: 'none' }));
  const fleetBody = JSON.stringify({
    clientToken: 'poc-1',
    cluster: stageSettings.clusterName,
    defaults: { gpu: { vendor: 'nvidia', model: 'h100', count: 8 } },
    servers: Array.from({ length: 12 }, (_, i) => ({
      name: `gpu-node-${String(i + 1).padStart(2, '0')}`,
      ip: `192.168.10.${21 + i}`,
      os: 'ubuntu-22.04',
    })),
  });
  const fleetSubmit = () =>
    answered(
      submitFleet(
        { clients, store: fleetStore, settings: fleetSettings, now: () => new Date() },
        { body: fleetBody, requester: REQUESTER, baseUrl: 'https://api.example' },
      ),
    );
  await take('submitFleet', fleetSubmit);
  const fleetInput = sfn.commandCalls(StartExecutionCommand).at(-1)?.args[0].input.input ?? '{}';
  const fleetId = (JSON.parse(fleetInput) as { fleetId: string }).fleetId;
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: fleetInput, startDate: new Date() });
  await take('submitFleet', fleetSubmit);
  await take('getFleet', () => getFleet({ sfn: clients.sfn, store: fleetStore, settings: fleetSettings }, fleetId));
  sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: fleetInput, startDate: new Date() });
  await take('getFleet', () => getFleet({ sfn: clients.sfn, store: fleetStore, settings: fleetSettings }, fleetId));
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: fleetInput, startDate: new Date() });
  await take('getFleetNodeConfigs', () =>
    getFleetNodeConfigs({ sfn: clients.sfn, ssm: clients.ssm, settings: fleetSettings }, fleetId, REQUESTER),
  );
  for (const mock of Object.values(mocks)) mock.restore();
  return found;
}
