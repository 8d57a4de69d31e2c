import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as checkNodeCommand from '#functions/node-lifecycle/check-node-command';
import * as cordonNode from '#functions/node-lifecycle/cordon-node';
import * as drainNode from '#functions/node-lifecycle/drain-node';
import * as runNodeCommand from '#functions/node-lifecycle/run-node-command';
import * as uncordonNode from '#functions/node-lifecycle/uncordon-node';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import { InvalidRequestError } from '#lib/errors';
import { tcpProber } from '#lib/net/probe';
import type { Runtime } from '#lib/runtime';
import { CLUSTER, fakeKube, hybridNode, pod } from '#test/helpers/fake-kube';
import { REGION, settings } from '#test/helpers/onboarding-fixtures';

/** The lifecycle handlers: their input schemas, and the lib function each calls with the runtime's seams. */

const ssmMock = mockClient(SSMClient);
const NODE = 'mi-0123456789abcdef0';

function runtimeWith(kube = fakeKube([])): Runtime {
  return {
    settings: settings(),
    clients: createAllAwsClients({ region: REGION }),
    clock: new ManualClock('2026-11-22T00:00:00Z'),
    nodes: kube.factory,
    prober: tcpProber,
  };
}

beforeEach(() => ssmMock.reset());

describe('node lifecycle handlers', () => {
  it.each([
    ['cordon-node', () => cordonNode.run({ cluster: CLUSTER }, runtimeWith())],
    ['uncordon-node', () => uncordonNode.run({ nodeName: NODE }, runtimeWith())],
    [
      'drain-node',
      () => drainNode.run({ cluster: CLUSTER, nodeName: NODE, deadline: 'soon', force: true }, runtimeWith()),
    ],
    [
      'run-node-command',
      () => runNodeCommand.run({ instanceId: NODE, requestId: 'r-1', action: 'upgrade' }, runtimeWith()),
    ],
    [
      'run-node-command (version)',
      () =>
        runNodeCommand.run(
          { instanceId: NODE, requestId: 'r-1', action: 'upgrade', kubernetesVersion: '1.33 && reboot' },
          runtimeWith(),
        ),
    ],
    ['check-node-command', () => checkNodeCommand.run({ instanceId: NODE, commandId: 'c' }, runtimeWith())],
  ])('%s rejects malformed input with InvalidRequestError and calls nothing', async (_, call) => {
    await expect(call()).rejects.toBeInstanceOf(InvalidRequestError);
    expect(ssmMock).not.toHaveReceivedAnyCommand();
  });

  it('cordon-node, drain-node and uncordon-node reach the cluster of their input', async () => {
    const kube = fakeKube([hybridNode(NODE)], [pod('web-1', { nodeName: NODE })]);
    const rt = runtimeWith(kube);

    await expect(cordonNode.run({ cluster: CLUSTER, nodeName: NODE }, rt)).resolves.toEqual({ wasCordoned: false });
    await expect(
      drainNode.run({ cluster: CLUSTER, nodeName: NODE, deadline: '2026-11-22T00:10:00Z', force: false }, rt),
    ).resolves.toMatchObject({ done: false, evicting: [{ name: 'web-1' }] });
    await expect(uncordonNode.run({ cluster: CLUSTER, nodeName: NODE }, rt)).resolves.toEqual({ uncordoned: true });
    expect(kube.clusters).toEqual([CLUSTER, CLUSTER, CLUSTER]);
  });

  it('run-node-command and check-node-command reach SSM with their input', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({});
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    const rt = runtimeWith();

    const command = await runNodeCommand.run(
      { instanceId: NODE, requestId: 'upgrade-1', action: 'upgrade', kubernetesVersion: '1.33' },
      rt,
    );
    await expect(checkNodeCommand.run(command, rt)).resolves.toEqual({ done: false, status: 'InProgress' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)[0]?.args[0].input).toEqual({
      CommandId: 'cmd-1',
      InstanceId: NODE,
    });
  });

  it('declare only the clients they call: SSM for the commands, node access for the Kubernetes steps', () => {
    expect(runNodeCommand.clients).toEqual({ sends: ['ssm'], credentialsOf: [] });
    expect(checkNodeCommand.clients).toEqual({ sends: ['ssm'], credentialsOf: [] });
    for (const step of [cordonNode, uncordonNode, drainNode]) {
      expect(step.clients).toEqual({ sends: [], credentialsOf: ['sts'] });
    }
  });
});
