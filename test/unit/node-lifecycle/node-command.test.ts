import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  InvalidInstanceId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { InvalidRequestError, NodeCommandFailedError, NodeCommandTimeoutError } from '#lib/errors';
import {
  checkNodeCommand,
  NODE_COMMAND_TIMEOUT_SECONDS,
  outputTail,
  REDACTED_LINE,
  runNodeCommand,
} from '#lib/node-lifecycle/node-command';
import { nodeadmScript } from '#lib/node-lifecycle/nodeadm';

const ssmMock = mockClient(SSMClient);
const INSTANCE = 'mi-0123456789abcdef0';
const COMMAND_ID = '8f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5';
const SENT = '2026-11-22T00:00:00.000Z';
const REQUEST_ID = 'gpu-node-01-offboard-35a76f7cc3e5';

const deps = (at = SENT) => ({ ssm: new SSMClient({ region: 'ap-northeast-2' }), clock: new ManualClock(at) });
const later = (seconds: number) => new Date(Date.parse(SENT) + seconds * 1000).toISOString();

beforeEach(() => ssmMock.reset());

describe('runNodeCommand', () => {
  const uninstall = { instanceId: INSTANCE, requestId: REQUEST_ID, action: 'uninstall' as const };

  it('sends the nodeadm script with AWS-RunShellScript, commented with the request, after finding none sent', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    ssmMock
      .on(SendCommandCommand)
      .resolves({ Command: { CommandId: COMMAND_ID, RequestedDateTime: new Date('2026-11-22T00:00:01Z') } });

    const command = await runNodeCommand(deps(), uninstall);

    expect(command).toEqual({
      instanceId: INSTANCE,
      commandId: COMMAND_ID,
      sentAt: '2026-11-22T00:00:01.000Z',
      action: 'uninstall',
      timeoutSeconds: NODE_COMMAND_TIMEOUT_SECONDS,
    });
    expect(ssmMock.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input)).toEqual([
      {
        InstanceId: INSTANCE,
        Filters: [
          { key: 'DocumentName', value: 'AWS-RunShellScript' },
          { key: 'InvokedAfter', value: '2026-11-21T00:00:00.000Z' },
        ],
        MaxResults: 50,
        NextToken: undefined,
      },
    ]);
    expect(ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input)).toEqual([
      {
        InstanceIds: [INSTANCE],
        DocumentName: 'AWS-RunShellScript',
        Comment: `eks-hybrid-ops ${REQUEST_ID} uninstall`,
        TimeoutSeconds: 600,
        Parameters: { commands: nodeadmScript(uninstall), executionTimeout: ['1800'] },
      },
    ]);
  });

  it('returns the command already sent for this request instead of sending again (a retried Task)', async () => {
    ssmMock
      .on(ListCommandInvocationsCommand)
      .resolvesOnce({
        CommandInvocations: [
          {
            CommandId: 'other',
            Comment: 'eks-hybrid-ops another-request uninstall',
            DocumentName: 'AWS-RunShellScript',
            RequestedDateTime: new Date('2026-11-21T23:59:00Z'),
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        CommandInvocations: [
          {
            CommandId: COMMAND_ID,
            Comment: `eks-hybrid-ops ${REQUEST_ID} uninstall`,
            DocumentName: 'AWS-RunShellScript',
            RequestedDateTime: new Date('2026-11-21T23:58:00Z'),
            Status: 'InProgress',
          },
        ],
      });

    const command = await runNodeCommand(deps(), uninstall);

    expect(command).toMatchObject({ commandId: COMMAND_ID, sentAt: '2026-11-21T23:58:00.000Z' });
    expect(ssmMock).not.toHaveReceivedCommand(SendCommandCommand);
    expect(ssmMock.commandCalls(ListCommandInvocationsCommand)[1]?.args[0].input.NextToken).toBe('page-2');
  });

  it('does not take another action of the same request for this one', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        {
          CommandId: 'upgrade-cmd',
          Comment: `eks-hybrid-ops ${REQUEST_ID} upgrade`,
          DocumentName: 'AWS-RunShellScript',
        },
      ],
    });
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND_ID } });

    await expect(runNodeCommand(deps(), uninstall)).resolves.toMatchObject({ commandId: COMMAND_ID, sentAt: SENT });
  });

  it('sends an upgrade to the target version', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({});
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND_ID } });
    const upgrade = {
      instanceId: INSTANCE,
      requestId: 'upgrade-7f3a',
      action: 'upgrade' as const,
      kubernetesVersion: '1.33',
    };

    await runNodeCommand(deps(), upgrade);

    const sent = ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent?.Comment).toBe('eks-hybrid-ops upgrade-7f3a upgrade');
    expect(sent?.Parameters?.commands).toEqual(nodeadmScript(upgrade));
    expect(sent?.Parameters?.commands?.join('\n')).toContain("upgrade '1.33' -c");
  });

  it.each([
    [{ action: 'upgrade' as const }, /kubernetesVersion: an upgrade needs kubernetesVersion/],
    [{ action: 'upgrade' as const, kubernetesVersion: '1.33; reboot' }, /kubernetesVersion: must be a minor version/],
    [{ requestId: 'Bad Id' }, /requestId: must be a DNS label/],
  ])('refuses %p before calling SSM', async (change, message) => {
    const attempt = runNodeCommand(deps(), { ...uninstall, ...change });

    await expect(attempt).rejects.toThrow(InvalidRequestError);
    await expect(attempt).rejects.toThrow(message);
    expect(ssmMock).not.toHaveReceivedAnyCommand();
  });

  it('turns InvalidInstanceId (not registered, agent down) into NodeCommandFailedError', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({});
    ssmMock
      .on(SendCommandCommand)
      .rejects(
        new InvalidInstanceId({ $metadata: {}, message: 'Instances [[mi-0123456789abcdef0]] not in a valid state' }),
      );

    await expect(runNodeCommand(deps(), uninstall)).rejects.toThrow(NodeCommandFailedError);
  });
});

describe('checkNodeCommand', () => {
  const input = { instanceId: INSTANCE, commandId: COMMAND_ID, sentAt: SENT, timeoutSeconds: 900 };
  const invocation = (over: Partial<GetCommandInvocationCommandOutput>): GetCommandInvocationCommandOutput => ({
    $metadata: {},
    CommandId: COMMAND_ID,
    InstanceId: INSTANCE,
    Comment: `eks-hybrid-ops ${REQUEST_ID} upgrade`,
    DocumentName: 'AWS-RunShellScript',
    ...over,
  });

  it('asks for the invocation by command and instance', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves(invocation({ Status: 'InProgress' }));

    await expect(checkNodeCommand(deps(later(30)), input)).resolves.toEqual({ done: false, status: 'InProgress' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: COMMAND_ID, InstanceId: INSTANCE },
    ]);
  });

  it('reads InvocationDoesNotExist right after SendCommand as not yet (eventual consistency)', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .rejects(new InvocationDoesNotExist({ $metadata: {}, message: 'Invocation does not exist' }));

    await expect(checkNodeCommand(deps(later(5)), input)).resolves.toEqual({ done: false, status: 'Pending' });
    await expect(checkNodeCommand(deps(later(301)), input)).rejects.toThrow(NodeCommandFailedError);
  });

  it('is done on Success, with the output tail', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves(
      invocation({
        Status: 'Success',
        ResponseCode: 0,
        StandardOutputContent:
          'eks-hybrid-ops: nodeadm upgrade started\n{"msg":"Daemon is running"}\neks-hybrid-ops: nodeadm upgrade succeeded.\n',
      }),
    );

    await expect(checkNodeCommand(deps(later(600)), input)).resolves.toEqual({
      done: true,
      status: 'Success',
      outputTail: [
        'eks-hybrid-ops: nodeadm upgrade started',
        '{"msg":"Daemon is running"}',
        'eks-hybrid-ops: nodeadm upgrade succeeded.',
      ],
    });
  });

  it.each([
    ['Failed', 'Failed', 1, /Read the output above/],
    ['TimedOut', 'Execution Timed Out', -1, /Read the output above/],
    ['TimedOut', 'Delivery Timed Out', -1, /did not pick the command up/],
    ['Failed', 'Undeliverable', -1, /did not pick the command up/],
    ['Cancelled', 'Cancelled', -1, /Read the output above/],
    ['Cancelling', 'Cancelling', -1, /Read the output above/],
  ] as const)(
    'fails on %s (%s) with status, details, exit code and tail',
    async (Status, StatusDetails, ResponseCode, fix) => {
      ssmMock.on(GetCommandInvocationCommand).resolves(
        invocation({
          Status,
          StatusDetails,
          ResponseCode,
          StandardOutputContent: 'eks-hybrid-ops: FAILED: nodeadm upgrade exited 1.\n',
          StandardErrorContent: '{"level":"fatal","msg":"Command failed"}\n',
        }),
      );

      const attempt = checkNodeCommand(deps(later(60)), input);

      await expect(attempt).rejects.toThrow(NodeCommandFailedError);
      await expect(attempt).rejects.toThrow(
        `nodeadm upgrade on ${INSTANCE} ended ${Status} (${StatusDetails}), exit code ${ResponseCode}. Last output: eks-hybrid-ops: FAILED: nodeadm upgrade exited 1. | {"level":"fatal","msg":"Command failed"} Fix: `,
      );
      await expect(attempt).rejects.toThrow(fix);
      await expect(attempt).rejects.toThrow(`journalctl -u eks-hybrid-ops-upgrade-${REQUEST_ID}`);
    },
  );

  it('times out a command still pending past sentAt + timeoutSeconds, and not before', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves(invocation({ Status: 'Delayed', StatusDetails: 'Delayed' }));

    await expect(checkNodeCommand(deps(later(900)), input)).resolves.toEqual({ done: false, status: 'Delayed' });
    const attempt = checkNodeCommand(deps(later(901)), input);
    await expect(attempt).rejects.toThrow(NodeCommandTimeoutError);
    await expect(attempt).rejects.toThrow(
      `nodeadm upgrade on ${INSTANCE} was still Delayed (Delayed) 901 s after it was sent`,
    );
  });

  describe('an uninstall', () => {
    const uninstalling = (over: Partial<GetCommandInvocationCommandOutput>) =>
      invocation({ Comment: `eks-hybrid-ops ${REQUEST_ID} uninstall`, ...over });

    it('is done once the host left SSM, even if its agent never reports the end', async () => {
      ssmMock.on(GetCommandInvocationCommand).resolves(uninstalling({ Status: 'InProgress' }));
      ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

      const result = await checkNodeCommand(deps(later(120)), input);

      expect(result).toMatchObject({ done: true, status: 'Deregistered' });
      expect(result.outputTail?.join(' ')).toContain(`journalctl -u eks-hybrid-ops-uninstall-${REQUEST_ID}`);
      expect(ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input)).toEqual([
        { Filters: [{ Key: 'InstanceIds', Values: [INSTANCE] }], MaxResults: 5 },
      ]);
    });

    it('is still running while the host is registered', async () => {
      ssmMock.on(GetCommandInvocationCommand).resolves(uninstalling({ Status: 'InProgress' }));
      ssmMock
        .on(DescribeInstanceInformationCommand)
        .resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online' }] });

      await expect(checkNodeCommand(deps(later(120)), input)).resolves.toEqual({ done: false, status: 'InProgress' });
    });

    it('fails when it failed with the host still registered', async () => {
      ssmMock.on(GetCommandInvocationCommand).resolves(uninstalling({ Status: 'Failed', ResponseCode: 1 }));
      ssmMock
        .on(DescribeInstanceInformationCommand)
        .resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online' }] });

      await expect(checkNodeCommand(deps(later(120)), input)).rejects.toThrow(NodeCommandFailedError);
    });
  });

  it('never carries a line that mentions the activation code', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves(
      invocation({
        Status: 'Failed',
        StandardErrorContent:
          '{"msg":"Loaded configuration","spec":{"hybrid":{"ssm":{"activationCode":"Zx9+secret/code"}}}}\n',
      }),
    );

    const error = await checkNodeCommand(deps(later(60)), input).catch((e: Error) => e);

    expect((error as Error).message).not.toContain('Zx9+secret/code');
    expect((error as Error).message).toContain(REDACTED_LINE);
  });
});

describe('outputTail', () => {
  it('keeps the last 20 non-empty lines, stdout then stderr, each at most 200 characters', () => {
    const stdout = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const tail = outputTail(stdout, `${'x'.repeat(250)}\n`);

    expect(tail).toHaveLength(20);
    expect(tail[0]).toBe('line 11');
    expect(tail.at(-1)).toBe(`${'x'.repeat(197)}...`);
  });

  it.each(['activationCode: abc', 'ActivationCode=abc', 'the activation-code was', '"activation_code"'])(
    'redacts %p',
    (line) => {
      expect(outputTail(`ok\n${line}\n`, undefined)).toEqual(['ok', REDACTED_LINE]);
    },
  );
});
