import { randomUUID } from 'node:crypto';
import { callerPrincipal, callWatchers, type SandboxEstate } from '#lib/sandbox/estate';
import { isBadExecutionName } from '#lib/sandbox/services/sfn';
import type { Json } from './asl';
import { named } from './run-control';
import type { RunResult } from './runner';

/**
 * The `states:startExecution.sync` and `.sync:2` integrations, run in process: the Task starts
 * an execution of another state machine of this stack (its `{"Ref": "<LogicalId>"}`), waits for it
 * to end, and returns its DescribeExecution. Sources:
 * the Step Functions developer guide, "Start a new AWS Step Functions state machine from a running
 * execution" (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html),
 * the SDK's StartExecution and DescribeExecution (node_modules/@aws-sdk/client-sfn/dist-types), and
 * the LocalStack/moto interpreter, snapshot-tested against AWS (state_task_service_sfn.py).
 */

export const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync';
export const START_EXECUTION_SYNC_2 = 'arn:aws:states:::states:startExecution.sync:2';

/** A state machine of this stack as the local runner knows it. */
export interface LocalStateMachine {
  workflow: string;
  /** camelCase key in serverless.yml (`stateMachine:<key>` signs its integrations' calls). */
  key: string;
  /** Its CloudFormation logical id: what `{"Ref": id}` names. */
  id: string;
  arn: string;
}

/** Every execution a run started (its own and its children's), by execution ARN: names are taken once. */
export type Executions = Map<string, { input: string; running: Promise<RunResult>; ended: boolean }>;

export interface ChildStart {
  machine: LocalStateMachine;
  name: string;
  input: Json;
}

export interface Integration {
  /** Whose integration this is: the parent's state machine key and its execution's name. */
  parent: { key: string };
  estate?: SandboxEstate;
  machines: LocalStateMachine[];
  executions: Executions;
  /** Runs the child in process, to its end. */
  start: (child: ChildStart) => Promise<RunResult>;
  /** Told of each child once it has ended (the execution that started it, not one that joined it). */
  ended: (child: RunResult) => void;
}

/** `StepFunctions.<Code>Exception`, as a Task names an error of the Step Functions API (moto `_from_error`). */
function apiError(code: string, message: string): Error {
  return named(
    `StepFunctions.${code}Exception`,
    `${message} (Service: AWSStepFunctions; Status Code: 400; Error Code: ${code}; Request ID: local; Proxy: null)`,
  );
}

export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** The Task's handler: start (or join) the child, wait for it, answer as the integration does. */
export function startExecutionSync(resource: string, integration: Integration) {
  const structured = resource === START_EXECUTION_SYNC_2;
  return async (parameters: Json): Promise<Json> => {
    const params = (parameters ?? {}) as Record<string, Json>;
    const arn = String(params.StateMachineArn ?? '');
    const machine = integration.machines.find((m) => m.arn === arn);
    const name = params.Name === undefined || params.Name === null ? randomUUID() : String(params.Name);
    const input = inputOf(params.Input);
    const inputText = JSON.stringify(input);
    const executionArn = executionArnOf(arn, name);
    signed(integration, 'StartExecution', { stateMachineArn: arn, name, input: inputText });
    if (!machine) {
      throw apiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    if (isBadExecutionName(name)) throw apiError('InvalidName', `Invalid Name: '${name}'`);
    const now = () => (integration.estate ? integration.estate.clock.now() : new Date()).getTime();
    // A STANDARD workflow's StartExecution is idempotent for the same name and input while it
    // runs (the call returns the same execution); a closed execution's name, or other input, is
    // ExecutionAlreadyExists (SDK StartExecutionCommand).
    let known = integration.executions.get(executionArn);
    if (known && (known.ended || known.input !== inputText)) {
      throw apiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const startDate = now();
    if (!known) {
      const running = integration.start({ machine, name, input });
      known = { input: inputText, running, ended: false };
      integration.executions.set(executionArn, known);
      const entry = known;
      void running.then(
        (result) => {
          entry.ended = true;
          integration.ended(result);
        },
        () => {
          entry.ended = true;
        },
      );
    }
    const result = await known.running;
    signed(integration, 'DescribeExecution', { executionArn });
    const stopDate = now();
    // DescribeExecution, PascalCased; `.sync:2` parses Input and Output, `.sync` leaves them strings.
    const described: Record<string, Json> = {
      ExecutionArn: executionArn,
      Input: structured ? input : inputText,
      InputDetails: { Included: true },
      Name: name,
      RedriveCount: 0,
      StartDate: startDate,
      StateMachineArn: arn,
      StopDate: stopDate,
    };
    if (result.status === 'SUCCEEDED') {
      const output = (result.output ?? null) as Json;
      return {
        ...described,
        Output: structured ? output : JSON.stringify(output),
        OutputDetails: { Included: true },
        RedriveStatus: 'NOT_REDRIVABLE',
        Status: 'SUCCEEDED',
      };
    }
    // A child that failed, timed out or was aborted fails the Task with States.TaskFailed, its
    // Cause the child's DescribeExecution as JSON, with the child's own Error and Cause (keys in
    // AWS's alphabetical order, as executions in AWS record it).
    const error = result.error ?? { name: 'States.Runtime', cause: '' };
    const cause = {
      Cause: error.cause,
      Error: error.name,
      ...described,
      RedriveStatus: 'REDRIVABLE',
      Status: result.aborted ? 'ABORTED' : 'FAILED',
    };
    throw named('States.TaskFailed', JSON.stringify(sorted(cause)));
  };
}

function inputOf(input: Json | undefined): Json {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as Json;
  } catch {
    throw apiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input.slice(0, 100)}'`);
  }
}

const sorted = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

/**
 * The integration's own call, signed by the parent state machine's role: recorded on the estate
 * and shown to its call watchers (the IAM simulation), as the estate does for SDK calls.
 */
function signed(integration: Integration, command: string, input: Record<string, unknown>): void {
  const { estate } = integration;
  if (!estate) return;
  callerPrincipal.run(`stateMachine:${integration.parent.key}`, () => {
    const call = estate.record('states', command);
    call.input = input;
    call.outcome = 'ok';
    for (const watch of callWatchers) watch(call, estate);
  });
}
