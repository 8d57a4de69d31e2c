import {
  GetCommandInvocationCommand,
  InvalidDocument,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidNextToken,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  type ListCommandInvocationsCommandInput,
  SendCommandCommand,
  type SendCommandCommandInput,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { INVOCATION_VISIBLE_AFTER_SECONDS } from '#lib/sandbox/services/ssm-run-command';
import { freezeTimeAt } from '../../helpers/frozen-time';

/**
 * The sandbox's SSM Run Command as the SSM service model and API reference describe it: what
 * SendCommand refuses, the invocations' eventual consistency, and how ListCommandInvocations pages.
 */

const NOW = new Date('2026-11-22T06:00:00.000Z');
freezeTimeAt(NOW);

const GPU_02 = 'mi-0a2b4c6d8e0f12342';
const CPU_04 = 'mi-0a2b4c6d8e0f12344';
const UNINSTALL = ['set -eu', 'nodeadm uninstall'];

const open = () => withServices(SandboxEstate.inMemory(loadSeed(DEFAULT_SEED)));
const send = (estate: SandboxEstate, input: Partial<SendCommandCommandInput> = {}) =>
  estate.clients().ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [GPU_02],
      Parameters: { commands: UNINSTALL },
      Comment: 'eks-hybrid-ops req-1 uninstall',
      ...input,
    }),
  );
const invocation = (estate: SandboxEstate, CommandId: string, InstanceId = GPU_02) =>
  estate.clients().ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId }));
const list = (estate: SandboxEstate, input: ListCommandInvocationsCommandInput) =>
  estate.clients().ssm.send(new ListCommandInvocationsCommand(input));

describe('sandbox SSM SendCommand', () => {
  it('answers with the command Pending, its id a UUID, expiring after both timeouts (3600 s each by default)', async () => {
    const { Command } = await send(open());

    expect(Command).toMatchObject({
      CommandId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/),
      DocumentName: 'AWS-RunShellScript',
      Comment: 'eks-hybrid-ops req-1 uninstall',
      InstanceIds: [GPU_02],
      Status: 'Pending',
      RequestedDateTime: NOW,
      ExpiresAfter: new Date(NOW.getTime() + 7200_000),
      TimeoutSeconds: 3600,
      TargetCount: 1,
    });
  });

  it('expires after its TimeoutSeconds plus the executionTimeout it was given', async () => {
    const { Command } = await send(open(), {
      TimeoutSeconds: 600,
      Parameters: { commands: UNINSTALL, executionTimeout: ['900'] },
    });

    expect(Command?.ExpiresAfter).toEqual(new Date(NOW.getTime() + 1500_000));
  });

  it('refuses a document that is not AWS-RunShellScript with InvalidDocument', async () => {
    await expect(send(open(), { DocumentName: 'MyRunScript' })).rejects.toThrow(
      new InvalidDocument({ $metadata: {}, message: "The specified SSM document doesn't exist." }),
    );
  });

  it('says plainly that its hosts run no other AWS document', async () => {
    await expect(send(open(), { DocumentName: 'AWS-RunPowerShellScript' })).rejects.toBeInstanceOf(
      SandboxNotImplementedError,
    );
  });

  it('takes the document by its ARN too', async () => {
    const arn = 'arn:aws:ssm:ap-northeast-2::document/AWS-RunShellScript';

    await expect(send(open(), { DocumentName: arn })).resolves.toMatchObject({ Command: { Status: 'Pending' } });
  });

  it('refuses an instance that is not registered with InvalidInstanceId, with no message as AWS gives it', async () => {
    const estate = open();
    delete estate.state.instances[GPU_02];

    await expect(send(estate)).rejects.toThrow(new InvalidInstanceId({ $metadata: {}, message: '' }));
  });

  it('refuses an instance id outside the model pattern before anything else', async () => {
    await expect(send(open(), { InstanceIds: ['server-1'] })).rejects.toBeInstanceOf(ValidationException);
  });

  it('refuses a Comment over 100 characters, the model limit', async () => {
    await expect(send(open(), { Comment: 'c'.repeat(101) })).rejects.toThrow(
      /Value 'c{101}' at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100/,
    );
    await expect(send(open(), { Comment: 'c'.repeat(100) })).resolves.toBeDefined();
  });

  it.each([29, 2592001])('refuses TimeoutSeconds %i, outside 30-2592000', async (TimeoutSeconds) => {
    await expect(send(open(), { TimeoutSeconds })).rejects.toBeInstanceOf(ValidationException);
  });

  it('refuses a script without commands, and parameters the document does not define, with InvalidParameters', async () => {
    await expect(send(open(), { Parameters: { commands: [] } })).rejects.toBeInstanceOf(InvalidParameters);
    await expect(send(open(), { Parameters: {} })).rejects.toBeInstanceOf(InvalidParameters);
    await expect(send(open(), { Parameters: { commands: UNINSTALL, shell: ['zsh'] } })).rejects.toBeInstanceOf(
      InvalidParameters,
    );
    await expect(
      send(open(), { Parameters: { commands: UNINSTALL, executionTimeout: ['172801'] } }),
    ).rejects.toBeInstanceOf(InvalidParameters);
  });

  it('says plainly that its hosts run only nodeadm uninstall and upgrade scripts', async () => {
    const attempt = send(open(), { Parameters: { commands: ['uptime'] } });

    await expect(attempt).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });
});

describe('sandbox SSM GetCommandInvocation', () => {
  it('answers InvocationDoesNotExist right after SendCommand, then the invocation (eventual consistency)', async () => {
    const estate = open();
    const { Command } = await send(estate);
    const id = Command?.CommandId ?? '';

    const early = invocation(estate, id);
    await expect(early).rejects.toBeInstanceOf(InvocationDoesNotExist);
    estate.advance(INVOCATION_VISIBLE_AFTER_SECONDS);
    const later = await invocation(estate, id);

    expect(later).toMatchObject({ CommandId: id, InstanceId: GPU_02, PluginName: 'aws:runShellScript' });
  });

  it('answers InvocationDoesNotExist for a command sent to another instance', async () => {
    const estate = open();
    const { Command } = await send(estate);
    estate.advance(60);

    await expect(invocation(estate, Command?.CommandId ?? '', CPU_04)).rejects.toThrow(
      new InvocationDoesNotExist({
        $metadata: {},
        message: "The command ID and managed node ID you specified didn't match any invocations.",
      }),
    );
  });

  it('refuses a CommandId that is not 36 characters long, as the model does', async () => {
    await expect(invocation(open(), 'abc')).rejects.toThrow(
      /Value 'abc' at 'commandId' failed to satisfy constraint: Member must have length equal to 36/,
    );
  });

  it('refuses a plugin the document has not', async () => {
    const estate = open();
    const { Command } = await send(estate);
    estate.advance(60);

    const attempt = estate.clients().ssm.send(
      new GetCommandInvocationCommand({
        CommandId: Command?.CommandId,
        InstanceId: GPU_02,
        PluginName: 'aws:runScript',
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(InvalidPluginName);
  });

  it('gives the first 24,000 characters of stdout and the first 8,000 of stderr', async () => {
    const estate = open();
    const { Command } = await send(estate);
    const id = Command?.CommandId ?? '';
    const stored = estate.state.commands[id]!.invocations[GPU_02]!;
    Object.assign(stored, { stdout: 'o'.repeat(30000), stderr: 'e'.repeat(9000) });
    estate.advance(INVOCATION_VISIBLE_AFTER_SECONDS);

    const answer = await invocation(estate, id);

    expect(answer.StandardOutputContent).toHaveLength(24000);
    expect(answer.StandardErrorContent).toHaveLength(8000);
  });
});

describe('sandbox SSM ListCommandInvocations', () => {
  /** Sends `n` commands to `instance`, a second apart, and returns their ids, oldest first. */
  async function sendMany(estate: SandboxEstate, n: number, instance = GPU_02): Promise<string[]> {
    const ids: string[] = [];
    for (let k = 0; k < n; k += 1) {
      const { Command } = await send(estate, { InstanceIds: [instance], Comment: `c${k}` });
      ids.push(Command?.CommandId ?? '');
      estate.advance(1);
    }
    estate.advance(INVOCATION_VISIBLE_AFTER_SECONDS);
    return ids;
  }

  it('lists nothing right after SendCommand (aws/aws-sdk#190), the invocation once visible', async () => {
    const estate = open();
    await send(estate);

    const early = await list(estate, { InstanceId: GPU_02 });
    estate.advance(INVOCATION_VISIBLE_AFTER_SECONDS);
    const later = await list(estate, { InstanceId: GPU_02 });

    expect(early.CommandInvocations).toEqual([]);
    expect(later.CommandInvocations?.map((i) => i.Comment)).toEqual(['eks-hybrid-ops req-1 uninstall']);
  });

  it('lists an instance invocations newest first, page by page', async () => {
    const estate = open();
    const ids = await sendMany(estate, 5);
    await sendMany(estate, 2, CPU_04);

    const first = await list(estate, { InstanceId: GPU_02, MaxResults: 2 });
    const second = await list(estate, { InstanceId: GPU_02, MaxResults: 2, NextToken: first.NextToken });
    const third = await list(estate, { InstanceId: GPU_02, MaxResults: 2, NextToken: second.NextToken });

    expect([first, second, third].flatMap((p) => p.CommandInvocations?.map((i) => i.CommandId))).toEqual(
      [...ids].reverse(),
    );
    expect(third.NextToken).toBeUndefined();
  });

  it('lists one command only when given its CommandId', async () => {
    const estate = open();
    const ids = await sendMany(estate, 3);

    const answer = await list(estate, { CommandId: ids[1] });

    expect(answer.CommandInvocations).toEqual([
      expect.objectContaining({ CommandId: ids[1], InstanceId: GPU_02, InstanceName: 'gpu-node-12', Comment: 'c1' }),
    ]);
  });

  it.each([0, 51])('refuses MaxResults %i, outside 1-50', async (MaxResults) => {
    await expect(list(open(), { MaxResults })).rejects.toBeInstanceOf(ValidationException);
  });

  it('refuses a NextToken it never gave', async () => {
    await expect(list(open(), { NextToken: 'bm90LWEtdG9rZW4=' })).rejects.toBeInstanceOf(InvalidNextToken);
  });

  it('filters by DocumentName and by when the commands were sent (InvokedAfter inclusive, InvokedBefore not)', async () => {
    const estate = open();
    const ids = await sendMany(estate, 3);
    const second = new Date(NOW.getTime() + 1000).toISOString();
    const Filters = [{ key: 'DocumentName' as const, value: 'AWS-RunShellScript' }];

    const after = await list(estate, {
      InstanceId: GPU_02,
      Filters: [...Filters, { key: 'InvokedAfter', value: second }],
    });
    const before = await list(estate, { InstanceId: GPU_02, Filters: [{ key: 'InvokedBefore', value: second }] });
    const other = await list(estate, { Filters: [{ key: 'DocumentName', value: 'AWS-RunPatchBaseline' }] });

    expect(after.CommandInvocations?.map((i) => i.CommandId)).toEqual([ids[2], ids[1]]);
    expect(before.CommandInvocations?.map((i) => i.CommandId)).toEqual([ids[0]]);
    expect(other.CommandInvocations).toEqual([]);
  });

  it('filters by Status, TimedOut taking both timeouts', async () => {
    const estate = open();
    const [first, second] = await sendMany(estate, 2);
    Object.assign(estate.state.commands[first!]!.invocations[GPU_02]!, {
      status: 'TimedOut',
      statusDetails: 'Delivery Timed Out',
    });

    const timedOut = await list(estate, { Filters: [{ key: 'Status', value: 'TimedOut' }] });
    const delivery = await list(estate, { Filters: [{ key: 'Status', value: 'DeliveryTimedOut' }] });
    const execution = await list(estate, { Filters: [{ key: 'Status', value: 'ExecutionTimedOut' }] });

    expect(timedOut.CommandInvocations?.map((i) => i.CommandId)).toEqual([first]);
    expect(delivery.CommandInvocations?.map((i) => i.CommandId)).toEqual([first]);
    expect(execution.CommandInvocations).toEqual([]);
    expect(second).toBeDefined();
  });

  it('refuses ExecutionStage (ListCommands only) with InvalidFilterKey, and more than 5 filters', async () => {
    const estate = open();
    const six = Array.from({ length: 6 }, () => ({ key: 'DocumentName' as const, value: 'AWS-RunShellScript' }));

    await expect(list(estate, { Filters: [{ key: 'ExecutionStage', value: 'Executing' }] })).rejects.toBeInstanceOf(
      InvalidFilterKey,
    );
    await expect(list(estate, { Filters: six })).rejects.toBeInstanceOf(ValidationException);
  });

  it('says plainly that it does not give Details', async () => {
    await expect(list(open(), { Details: true })).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });
});
