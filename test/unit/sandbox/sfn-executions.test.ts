import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { describeExecution, latestState, startExecutionOnce } from '#lib/executions';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { type ExecutionEnd, type ExecutionRunner, executionsEnded, runExecutionsWith } from '#lib/sandbox/services/sfn';

/**
 * The sandbox's Step Functions: StartExecution runs the execution with the runner the process
 * installed, and DescribeExecution and GetExecutionHistory answer from what that runner reported,
 * as lib/executions.ts reads them.
 */

const MACHINE = 'arn:aws:states:ap-northeast-2:111122223333:stateMachine:onboard-node-sandbox';

/** A runner whose executions enter `Issue`, leave it with `{phase: 'issued'}`, and end when told. */
function gatedRunner() {
  const gates: Array<(end: ExecutionEnd) => void> = [];
  const runner: ExecutionRunner = {
    runs: (arn) => arn === MACHINE,
    run: async (_execution, step) => {
      step({ kind: 'entered', state: 'Issue', stateType: 'Task', data: {} });
      step({ kind: 'exited', state: 'Issue', stateType: 'Task', data: { phase: 'issued' } });
      step({ kind: 'entered', state: 'WaitForJoin', stateType: 'Wait', data: { phase: 'issued' } });
      return new Promise<ExecutionEnd>((resolve) => gates.push(resolve));
    },
  };
  return { runner, end: (end: ExecutionEnd) => gates.shift()?.(end) };
}

function sandbox() {
  const estate = withServices(SandboxEstate.inMemory());
  const gated = gatedRunner();
  runExecutionsWith(estate, gated.runner);
  return { estate, sfn: estate.clients().sfn, ...gated };
}

describe('the sandbox Step Functions service', () => {
  it('runs a started execution and describes it running, then succeeded with its output', async () => {
    const { estate, sfn, end } = sandbox();

    const started = await startExecutionOnce(sfn, MACHINE, 'req-1', { requestDigest: 'd1' });
    const arn = started?.executionArn ?? '';
    const runningNow = await describeExecution(sfn, arn);
    end({ status: 'SUCCEEDED', output: { done: true } });
    await executionsEnded(estate);
    const ended = await describeExecution(sfn, arn);

    expect(started).toEqual({
      executionArn: 'arn:aws:states:ap-northeast-2:111122223333:execution:onboard-node-sandbox:req-1',
      existing: false,
    });
    expect(runningNow).toMatchObject({ status: 'RUNNING', name: 'req-1', input: '{"requestDigest":"d1"}' });
    expect(ended).toMatchObject({ status: 'SUCCEEDED', output: '{"done":true}' });
    expect(ended?.stopDate).toBeInstanceOf(Date);
  });

  it('gives the latest state and Task output newest first, as the status APIs read them', async () => {
    const { sfn } = sandbox();
    const started = await startExecutionOnce(sfn, MACHINE, 'req-2', { requestDigest: 'd' });

    const latest = await latestState<{ phase: string }>(sfn, started?.executionArn ?? '');

    expect(latest).toEqual({ state: 'WaitForJoin', latest: { phase: 'issued' } });
  });

  it('pages the history with nextToken, oldest first unless reverseOrder', async () => {
    const { sfn } = sandbox();
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'req-3' }));

    const first = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3 }));
    const second = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 3, nextToken: first.nextToken }),
    );
    const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));

    expect(first.events?.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskStateExited']);
    expect(first.events?.map((e) => [e.id, e.previousEventId])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(second.events?.map((e) => e.type)).toEqual(['WaitStateEntered']);
    expect(second.nextToken).toBeUndefined();
    expect(reversed.events?.map((e) => e.id)).toEqual([4, 3, 2, 1]);
  });

  it('returns the same running execution for the same name and input, and refuses other input or a closed one', async () => {
    const { estate, sfn, end } = sandbox();
    const start = (input: string) =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'req-4', input }));
    const first = await start('{"a":1}');

    const again = await start('{"a":1}');
    const other = start('{"a":2}');
    await expect(other).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    end({ status: 'FAILED', error: 'NodeNeverRegisteredError', cause: 'no registration' });
    await executionsEnded(estate);
    const afterClose = start('{"a":1}');

    expect(again.executionArn).toBe(first.executionArn);
    await expect(afterClose).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }))).resolves.toMatchObject({
      status: 'FAILED',
      error: 'NodeNeverRegisteredError',
      cause: 'no registration',
    });
  });

  it('refuses an unknown execution, a bad name, and a state machine no runner runs', async () => {
    const { estate, sfn } = sandbox();
    const unknown = `${MACHINE.replace(':stateMachine:', ':execution:')}:nope`;

    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: unknown }))).rejects.toBeInstanceOf(
      ExecutionDoesNotExist,
    );
    await expect(describeExecution(sfn, unknown)).resolves.toBeUndefined();
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'has space' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${MACHINE}-other`, name: 'x' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    runExecutionsWith(estate, undefined);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'y' }))).rejects.toBeInstanceOf(
      StateMachineDoesNotExist,
    );
  });

  it('lists executions newest first (running by start, ended by stop), filtered by status, paged with nextToken', async () => {
    const { estate, sfn, end } = sandbox();
    // req-a starts, then req-b, then req-c; req-a ends after req-c started: it is the newest event.
    for (const name of ['req-a', 'req-b', 'req-c']) {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name }));
      estate.advance(60);
    }
    end({ status: 'SUCCEEDED', output: {} });
    await new Promise((resolve) => setImmediate(resolve));

    const names = async (input: Partial<ConstructorParameters<typeof ListExecutionsCommand>[0]>) => {
      const answer = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE, ...input }));
      return { names: answer.executions?.map((e) => `${e.name}:${e.status}`), nextToken: answer.nextToken };
    };
    const all = await names({});
    const first = await names({ maxResults: 2 });
    const rest = await names({ maxResults: 2, nextToken: first.nextToken });
    const running = await names({ statusFilter: 'RUNNING' });

    expect(all).toEqual({ names: ['req-a:SUCCEEDED', 'req-c:RUNNING', 'req-b:RUNNING'], nextToken: undefined });
    expect(first.names).toEqual(['req-a:SUCCEEDED', 'req-c:RUNNING']);
    expect(rest).toEqual({ names: ['req-b:RUNNING'], nextToken: undefined });
    expect(running.names).toEqual(['req-c:RUNNING', 'req-b:RUNNING']);
    const [ended] =
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE, statusFilter: 'SUCCEEDED' }))).executions ??
      [];
    expect(ended).toMatchObject({ stateMachineArn: MACHINE, startDate: expect.any(Date), stopDate: expect.any(Date) });
  });

  it('refuses a page size over 1000, a token it did not give, PENDING_REDRIVE and an unknown state machine', async () => {
    const { sfn } = sandbox();
    const list = (input: Partial<ConstructorParameters<typeof ListExecutionsCommand>[0]>) =>
      sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE, ...input }));

    await expect(list({ maxResults: 1001 })).rejects.toBeInstanceOf(ValidationException);
    await expect(list({ maxResults: 1000 })).resolves.toMatchObject({ executions: [] });
    await expect(list({ nextToken: 'not-a-token' })).rejects.toBeInstanceOf(InvalidToken);
    await expect(list({ statusFilter: 'PENDING_REDRIVE' })).rejects.toBeInstanceOf(ValidationException);
    await expect(list({ stateMachineArn: `${MACHINE}-other` })).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });
});
