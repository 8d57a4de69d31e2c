import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Json, StateNode } from '#cli/asl';
import { localRuntime } from '#cli/local-runtime';
import { AWS_PAYLOAD_LIMIT_BYTES } from '#cli/run-control';
import { type RunOptions, runWorkflow } from '#cli/runner';
import { SILENT } from '#cli/local-run';
import { onboardNode } from '#cli/workflows/onboard-node';
import type { OnboardingInput } from '#lib/onboarding/state';

/**
 * The local runner itself, on small definitions: where aws-local-stepfunctions is kinder than
 * Step Functions, the runner must hold the run to what AWS does.
 */

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-runner-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const ARN = 'arn:aws:lambda:ap-northeast-2:000000000000:function:test';
const task = (extra: StateNode = {}): StateNode => ({ Type: 'Task', Resource: ARN, ...extra });
const RETRY_ALL = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 5 }];

function run(
  definition: StateNode,
  handlers: RunOptions['localHandlers'],
  extra: Partial<RunOptions> = {},
  arrange?: (local: ReturnType<typeof localRuntime>) => void,
) {
  const local = localRuntime('sandbox', home, {});
  arrange?.(local);
  return {
    local,
    result: runWorkflow({
      workflow: 'runner-test',
      definition,
      localHandlers: handlers,
      input: {},
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
      ...extra,
    }),
  };
}

describe('a failed Parallel, as Step Functions stops it', () => {
  it('starts nothing more in its other branches, and nothing of the run goes on after it returns', async () => {
    const ran: string[] = [];
    const slow = (name: string) => async (input: Json) => {
      await sleep(30);
      ran.push(name);
      return input;
    };
    const definition: StateNode = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Fails', States: { Fails: task({ End: true }) } },
            {
              StartAt: 'First',
              States: { First: task({ Next: 'Second' }), Second: task({ Next: 'Third' }), Third: task({ End: true }) },
            },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    const { result } = run(definition, {
      Fails: async () => {
        await sleep(10); // First is running by then
        throw Object.assign(new Error('Fails broke'), { name: 'BrokeError' });
      },
      First: slow('First'),
      Second: slow('Second'),
      Third: slow('Third'),
    });
    const done = await result;
    const ranWhenReturned = [...ran];
    await sleep(100);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.visited).toContain('Handled');
    // First was already running when Fails failed: AWS lets a running Lambda finish too.
    expect(ranWhenReturned).toEqual(['First']);
    expect(ran).toEqual(['First']);
  });

  it('stops a sibling that is retrying', async () => {
    let tries = 0;
    const definition: StateNode = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Fails', States: { Fails: task({ End: true }) } },
            { StartAt: 'Flaky', States: { Flaky: task({ Retry: RETRY_ALL, End: true }) } },
          ],
          End: true,
        },
      },
    };
    const { result } = run(definition, {
      Fails: async () => {
        await sleep(5);
        throw Object.assign(new Error('down'), { name: 'BrokeError' });
      },
      Flaky: async () => {
        tries += 1;
        await sleep(20);
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      },
    });
    const done = await result;
    const triesWhenReturned = tries;
    await sleep(100);

    expect(done.status).toBe('FAILED');
    expect(done.error?.name).toBe('BrokeError');
    expect(triesWhenReturned).toBe(1);
    expect(tries).toBe(1);
  });

  it('stops the other items of a failed Map', async () => {
    const seen: number[] = [];
    const definition: StateNode = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 1,
          ItemProcessor: { StartAt: 'Item', States: { Item: task({ End: true }) } },
          End: true,
        },
      },
    };
    const local = localRuntime('sandbox', home, {});
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition,
      input: { items: [1, 2, 3, 4] },
      localHandlers: {
        Item: async (n) => {
          seen.push(n as number);
          if (n === 2) throw Object.assign(new Error('item 2'), { name: 'BrokeError' });
          return n;
        },
      },
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
    });

    expect(done.status).toBe('FAILED');
    expect(seen).toEqual([1, 2]);
  });
});

describe('the 256 KiB payload limit', () => {
  const big = 'x'.repeat(AWS_PAYLOAD_LIMIT_BYTES);

  it('fails a Task whose result is too large with States.DataLimitExceeded, which its Catch may handle', async () => {
    const definition: StateNode = {
      StartAt: 'Big',
      States: {
        Big: task({
          Catch: [{ ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.failure', Next: 'Handled' }],
          End: true,
        }),
        Handled: { Type: 'Pass', End: true },
      },
    };
    const done = await run(definition, { Big: async () => big }).result;

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ failure: { Error: 'States.DataLimitExceeded' } });
  });

  it('ends the execution, running no Catch, when a state output passes the limit', async () => {
    const ran: string[] = [];
    const half = 'x'.repeat(AWS_PAYLOAD_LIMIT_BYTES / 2 + 10);
    const definition: StateNode = {
      StartAt: 'One',
      States: {
        One: task({ ResultPath: '$.one', Next: 'Two' }),
        // Each result fits; the two together in the state do not.
        Two: task({
          ResultPath: '$.two',
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Alert' }],
          Next: 'Three',
        }),
        Three: task({ End: true }),
        Alert: task({ End: true }),
      },
    };
    const record = (name: string) => async () => {
      ran.push(name);
      return half;
    };
    const done = await run(definition, {
      One: record('One'),
      Two: record('Two'),
      Three: record('Three'),
      Alert: record('Alert'),
    }).result;

    expect(done.status).toBe('FAILED');
    expect(done.error?.name).toBe('States.DataLimitExceeded');
    expect(ran).toEqual(['One', 'Two']);
  });
});

describe('injected Lambda faults', () => {
  const definition: StateNode = {
    StartAt: 'Step',
    States: {
      Step: task({
        Retry: [{ ErrorEquals: ['Lambda.Unknown', 'States.Timeout'], MaxAttempts: 2 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
        End: true,
      }),
      Caught: { Type: 'Pass', End: true },
    },
  };

  it('a crash after the work is done: the work happened, the result is lost, the retry runs it again', async () => {
    let work = 0;
    const done = await run(
      definition,
      {
        Step: async () => {
          work += 1;
          return { work };
        },
      },
      { lambdaFaults: [{ state: 'Step', attempt: 1, error: 'Lambda.Unknown', afterWork: true }] },
    ).result;

    expect(done.status).toBe('SUCCEEDED');
    expect(work).toBe(2);
    expect(done.output).toEqual({ work: 2 });
    expect(done.history.filter((e) => e.type === 'StateRetried')).toHaveLength(1);
  });

  it('a timeout before any work, on every attempt: the Catch gets States.Timeout', async () => {
    let work = 0;
    const faults = [1, 2, 3].map((attempt) => ({
      state: 'Step',
      attempt,
      error: 'States.Timeout' as const,
      afterWork: false,
    }));
    const done = await run(
      definition,
      {
        Step: async () => {
          work += 1;
          return {};
        },
      },
      { lambdaFaults: faults },
    ).result;

    expect(work).toBe(0);
    expect(done.visited).toEqual(['Step', 'Caught']);
    expect(done.output).toMatchObject({ failure: { Error: 'States.Timeout' } });
  });
});

describe('the SNS publish integration', () => {
  const definition: StateNode = {
    StartAt: 'Notify',
    States: {
      Notify: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { TopicArn: { Ref: 'AlertTopic' }, Message: 'hello' },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  };

  it('names an error SNS answered SNS.<Code>Exception, as Step Functions does', async () => {
    const { local, result } = run(definition, {}, {}, (l) =>
      l.estate?.injectFault({ on: 'sns:Publish', effect: 'error', error: 'InternalErrorException' }),
    );
    const done = await result;

    expect(done.output).toMatchObject({ failure: { Error: 'SNS.InternalErrorException' } });
    expect(local.estate?.outbox).toHaveLength(0);
  });

  it('a request that never reached SNS is States.TaskFailed', async () => {
    const { result } = run(definition, {}, {}, (l) =>
      l.estate?.injectFault({ on: 'sns:Publish', effect: 'network', error: 'ECONNRESET' }),
    );
    const done = await result;

    expect(done.output).toMatchObject({ failure: { Error: 'States.TaskFailed' } });
  });

  it('publishes when nothing is wrong', async () => {
    const { local, result } = run(definition, {});
    const done = await result;

    expect(done.status).toBe('SUCCEEDED');
    expect(local.estate?.outbox.map((m) => m.message)).toEqual(['hello']);
  });
});

describe('intrinsic functions, as Step Functions evaluates them', () => {
  it('States.JsonToString returns valid JSON for strings with quotes and line breaks', async () => {
    const text = 'a "quoted" word\nand a second line with a \\ backslash';
    const definition: StateNode = {
      StartAt: 'Stringify',
      States: {
        Stringify: {
          Type: 'Pass',
          Parameters: { 'json.$': 'States.JsonToString($.value)', 'said.$': "States.Format('it\\'s {}', $.word)" },
          End: true,
        },
      },
    };
    const local = localRuntime('sandbox', home, {});
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition,
      input: { value: { text }, word: 'fine' },
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
    });

    const output = done.output as { json: string; said: string };
    expect(JSON.parse(output.json)).toEqual({ text });
    expect(output.said).toBe("it's fine");
  });
});

describe('child executions (states:startExecution.sync and .sync:2)', () => {
  // A child of this stack, named as serverless.yml names it; its definition is the test's own.
  const CHILD = { Ref: 'OffboardNodeStateMachine' } as const;
  const childTask = (resource: string, extra: StateNode = {}): StateNode => ({
    Type: 'Task',
    Resource: resource,
    Parameters: { StateMachineArn: CHILD, 'Name.$': '$.name', 'Input.$': '$.input' },
    ...extra,
  });
  const SYNC2 = 'arn:aws:states:::states:startExecution.sync:2';
  const SYNC = 'arn:aws:states:::states:startExecution.sync';
  const childDefinition: StateNode = { StartAt: 'Work', States: { Work: task({ End: true }) } };

  function runParent(definition: StateNode, input: unknown, work: (input: Json) => Promise<Json>, extra = {}) {
    const events: Array<{ state: string; execution?: string; type: string }> = [];
    const local = localRuntime('sandbox', home, {});
    const result = runWorkflow({
      workflow: 'runner-test',
      definition,
      input,
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
      onEvent: (e) => events.push({ state: e.state, execution: e.execution, type: e.type }),
      childRuns: { definitions: { 'offboard-node': { definition: childDefinition, localHandlers: { Work: work } } } },
      ...extra,
    });
    return { result, events, local };
  }

  it('.sync:2 returns the child DescribeExecution with Output as JSON; the child is its own execution', async () => {
    const definition: StateNode = { StartAt: 'Child', States: { Child: childTask(SYNC2, { End: true }) } };
    const { result, events, local } = runParent(definition, { name: 'child-1', input: { n: 1 } }, async (i) => ({
      doubled: ((i as { n: number }).n ?? 0) * 2,
    }));
    const done = await result;

    expect(done.status).toBe('SUCCEEDED');
    const arn = `arn:aws:states:${local.estate?.seed.region}:${local.estate?.seed.account}:stateMachine:eks-hybrid-ops-sandbox-offboard-node`;
    expect(done.output).toMatchObject({
      ExecutionArn: `${arn.replace(':stateMachine:', ':execution:')}:child-1`,
      StateMachineArn: arn,
      Name: 'child-1',
      Status: 'SUCCEEDED',
      Input: { n: 1 },
      InputDetails: { Included: true },
      Output: { doubled: 2 },
      OutputDetails: { Included: true },
    });
    const output = done.output as { StartDate: number; StopDate: number };
    expect(typeof output.StartDate).toBe('number');
    expect(output.StopDate).toBeGreaterThanOrEqual(output.StartDate);
    // Its history and invocations are its own; its events reach the parent's onEvent, named.
    expect(done.visited).toEqual(['Child']);
    expect(done.invocations).toEqual({});
    expect(done.children?.map((c) => [c.workflow, c.executionName, c.visited, c.invocations])).toEqual([
      ['offboard-node', 'child-1', ['Work'], { Work: 1 }],
    ]);
    expect(events.filter((e) => e.execution === 'child-1').map((e) => `${e.type} ${e.state}`)).toEqual([
      'entered Work',
      'exited Work',
    ]);
    // The integration's own calls, signed by the parent's role.
    const calls = local.estate?.calls.filter((c) => c.service === 'states');
    expect(calls?.map((c) => `${c.command} ${c.principal} ${c.task}`)).toEqual([
      'StartExecution stateMachine:runnerTest Child',
      'DescribeExecution stateMachine:runnerTest Child',
    ]);
  });

  it('.sync returns Input and Output as JSON strings', async () => {
    const definition: StateNode = { StartAt: 'Child', States: { Child: childTask(SYNC, { End: true }) } };
    const done = await runParent(definition, { name: 'child-2', input: { n: 1 } }, async () => ({ ok: true })).result;

    expect(done.output).toMatchObject({ Input: '{"n":1}', Output: '{"ok":true}', Status: 'SUCCEEDED' });
  });

  it("a failed child fails the Task with States.TaskFailed, its Cause the child's DescribeExecution with Error and Cause", async () => {
    const definition: StateNode = {
      StartAt: 'Child',
      States: {
        Child: childTask(SYNC2, {
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    };
    const done = await runParent(definition, { name: 'child-3', input: {} }, async () => {
      throw Object.assign(new Error('the cluster is gone'), { name: 'ClusterNotFoundError' });
    }).result;

    expect(done.visited).toEqual(['Child', 'Caught']);
    const failure = (done.output as { failure: { Error: string; Cause: string } }).failure;
    expect(failure.Error).toBe('States.TaskFailed');
    const cause = JSON.parse(failure.Cause) as Record<string, unknown>;
    expect(cause).toMatchObject({ Error: 'ClusterNotFoundError', Name: 'child-3', Status: 'FAILED' });
    expect(cause.Cause).toBe('the cluster is gone');
    expect(Object.keys(cause)).toEqual([...Object.keys(cause)].sort());
    expect(done.children?.[0]?.status).toBe('FAILED');
  });

  it('a name an ended execution took is StepFunctions.ExecutionAlreadyExistsException', async () => {
    const definition: StateNode = {
      StartAt: 'First',
      States: {
        First: childTask(SYNC2, { ResultPath: null, Next: 'Again' }),
        Again: childTask(SYNC2, {
          Catch: [
            { ErrorEquals: ['StepFunctions.ExecutionAlreadyExistsException'], ResultPath: '$.failure', Next: 'Taken' },
          ],
          End: true,
        }),
        Taken: { Type: 'Pass', End: true },
      },
    };
    let runs = 0;
    const done = await runParent(definition, { name: 'child-4', input: {} }, async () => {
      runs += 1;
      return {};
    }).result;

    expect(done.visited).toEqual(['First', 'Again', 'Taken']);
    expect(runs).toBe(1);
  });

  it('the same name and input while it runs is the same execution: it runs once', async () => {
    const both = (name: string): StateNode => ({ StartAt: name, States: { [name]: childTask(SYNC2, { End: true }) } });
    const definition: StateNode = {
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [both('One'), both('Two')], End: true } },
    };
    let runs = 0;
    const done = await runParent(definition, { name: 'child-5', input: { same: true } }, async () => {
      runs += 1;
      await sleep(20);
      return { runs };
    }).result;

    expect(done.status).toBe('SUCCEEDED');
    expect(runs).toBe(1);
    expect((done.output as Array<{ Output: unknown }>).map((o) => o.Output)).toEqual([{ runs: 1 }, { runs: 1 }]);
    expect(done.children).toHaveLength(1);
  });

  it("injected Lambda faults hit the parent's states only", async () => {
    const definition: StateNode = { StartAt: 'Child', States: { Child: childTask(SYNC2, { End: true }) } };
    const done = await runParent(definition, { name: 'child-6', input: {} }, async () => ({ fine: true }), {
      lambdaFaults: [{ state: 'Work', attempt: 1, error: 'Lambda.Unknown', afterWork: false }],
    }).result;

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ Output: { fine: true } });
  });

  it('runs onboard-node as the child, on the same estate, with the person fetching its NodeConfig', async () => {
    const local = localRuntime('sandbox', home, {});
    const body = readFileSync(join(__dirname, '..', '..', 'events', 'onboard-node.json'), 'utf8');
    const prepared = await onboardNode.prepare(body, local);
    if (!prepared.ok) throw new Error(prepared.problems.join('; '));
    const input = prepared.input as OnboardingInput;
    const definition: StateNode = {
      StartAt: 'OnboardServer',
      States: {
        OnboardServer: {
          Type: 'Task',
          Resource: SYNC2,
          Parameters: { StateMachineArn: { Ref: 'OnboardNodeStateMachine' }, 'Name.$': '$.requestId', 'Input.$': '$' },
          ResultSelector: { 'requestId.$': '$.Output.requestId', 'status.$': '$.Status' },
          End: true,
        },
      },
    };
    const seenBy: string[] = [];
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition,
      input,
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
      childRuns: {
        afterTask: (workflow, childInput) => {
          seenBy.push(workflow);
          return onboardNode.afterTask?.(local, SILENT, childInput) ?? {};
        },
      },
    });

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ requestId: input.requestId, status: 'SUCCEEDED' });
    expect(seenBy).toEqual(['onboard-node']);
    const [child] = done.children ?? [];
    expect(child?.executionName).toBe(input.requestId);
    expect(child?.visited).toContain('RenderNodeConfig');
    expect(child?.visited.at(-1)).toBe('NotifySuccess');
    expect(Object.values(local.estate?.state.nodes ?? {}).some((n) => n.internalIp === '192.168.10.21')).toBe(true);
  });
});

describe('one sandbox clock for concurrent branches', () => {
  const waitThen = (seconds: number, name: string): StateNode => ({
    StartAt: `Wait${name}`,
    States: { [`Wait${name}`]: { Type: 'Wait', Seconds: seconds, Next: name }, [name]: task({ End: true }) },
  });

  it('ten Map iterations waiting 15 s each move the clock 15 s, not 150 s', async () => {
    const readings: number[] = [];
    const definition: StateNode = {
      StartAt: 'Each',
      States: {
        Each: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: waitThen(15, 'After'), End: true },
      },
    };
    const local = localRuntime('sandbox', home, {});
    const offset = () => local.estate?.state.clockOffsetMs ?? NaN;
    const before = offset();
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition,
      input: { items: Array.from({ length: 10 }, (_, i) => i) },
      localHandlers: {
        After: async (n) => {
          readings.push(offset() - before);
          return n;
        },
      },
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
    });

    expect(done.status).toBe('SUCCEEDED');
    expect(readings).toEqual(Array.from({ length: 10 }, () => 15_000));
    expect(offset() - before).toBe(15_000);
  });

  it('moves only when every branch waits: a running Task holds it, and each wakes at its own time', async () => {
    const log: string[] = [];
    const local = localRuntime('sandbox', home, {});
    const before = local.estate?.state.clockOffsetMs ?? 0;
    const at = () => ((local.estate?.state.clockOffsetMs ?? 0) - before) / 1000;
    const definition: StateNode = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Slow',
              States: {
                Slow: task({ Next: 'WaitA' }),
                WaitA: { Type: 'Wait', Seconds: 10, Next: 'A' },
                A: task({ End: true }),
              },
            },
            waitThen(25, 'B'),
          ],
          End: true,
        },
      },
    };
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition,
      input: {},
      localHandlers: {
        Slow: async (input) => {
          await sleep(50); // B is waiting all along: the clock must not move meanwhile
          log.push(`Slow ends at ${at()}`);
          return input;
        },
        A: async (input) => {
          log.push(`A at ${at()}`);
          return input;
        },
        B: async (input) => {
          log.push(`B at ${at()}`);
          return input;
        },
      },
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
    });

    expect(done.status).toBe('SUCCEEDED');
    expect(log).toEqual(['Slow ends at 0', 'A at 10', 'B at 25']);
  });

  it('is shared with child executions', async () => {
    const local = localRuntime('sandbox', home, {});
    const before = local.estate?.state.clockOffsetMs ?? 0;
    const child = (name: string): StateNode => ({
      StartAt: name,
      States: {
        [name]: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: { Ref: 'OffboardNodeStateMachine' }, Name: name, Input: {} },
          End: true,
        },
      },
    });
    const done = await runWorkflow({
      workflow: 'runner-test',
      definition: {
        StartAt: 'Both',
        States: { Both: { Type: 'Parallel', Branches: [child('c1'), child('c2')], End: true } },
      },
      input: {},
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
      childRuns: {
        definitions: {
          'offboard-node': {
            definition: waitThen(20, 'Done'),
            localHandlers: { Done: async () => ((local.estate?.state.clockOffsetMs ?? 0) - before) / 1000 },
          },
        },
      },
    });

    expect(done.status).toBe('SUCCEEDED');
    expect((done.output as Array<{ Output: unknown }>).map((o) => o.Output)).toEqual([20, 20]);
  });
});
