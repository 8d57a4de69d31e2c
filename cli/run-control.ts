import { setImmediate as nextTurn } from 'node:timers/promises';
import { callerTask } from '#lib/sandbox/estate';
import type { Json } from './asl';
import type { SandboxTime } from './sandbox-time';

/**
 * What holds a local run to the limits AWS holds an execution to, and keeps track of the Tasks
 * it started: the run stops (as AWS would, without a Catch) when a limit is passed, and nothing
 * more runs in a Map or Parallel state whose branch failed.
 */

/** Step Functions Standard: at most 25,000 events in one execution's history. */
export const AWS_HISTORY_EVENT_LIMIT = 25_000;
/** Step Functions: a task result, a state's input or output: at most 256 KiB as UTF-8 (Quotas). */
export const AWS_PAYLOAD_LIMIT_BYTES = 262_144;

export const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

export const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/**
 * A Task's Lambda failing the way Lambda fails, at one invocation of that state. `Lambda.Unknown`
 * is what Step Functions records for a function that crashed or hit its own timeout;
 * `States.Timeout` a Task that ran past its TimeoutSeconds; `Lambda.ServiceException` and
 * `Lambda.TooManyRequestsException` an invocation Lambda refused (Step Functions developer guide,
 * "Handling errors"). With `afterWork` the handler ran to its end first: its work was done, only
 * its result was lost.
 */
export interface LambdaFault {
  state: string;
  /** Which invocation of that state, from 1, counting retries and Map items. */
  attempt: number;
  error: 'Lambda.Unknown' | 'States.Timeout' | 'Lambda.ServiceException' | 'Lambda.TooManyRequestsException';
  afterWork: boolean;
}

/** The error and cause Step Functions records for an injected Lambda fault. */
function lambdaFaultError(fault: LambdaFault, functionName: string): Error {
  const causes: Record<LambdaFault['error'], string> = {
    'Lambda.Unknown': `The cause could not be determined because Lambda did not return an error type. Returned payload: {"errorMessage":"Task timed out after 30.00 seconds (${functionName}, injected)"}`,
    'States.Timeout': '',
    'Lambda.ServiceException': 'Lambda returned an internal error (Service: Lambda, Status Code: 500; injected).',
    'Lambda.TooManyRequestsException': 'Rate Exceeded. (Service: Lambda, Status Code: 429; injected)',
  };
  return named(fault.error, causes[fault.error]);
}

export class RunControl {
  /** Why the run must stop as AWS would stop it (a limit passed). */
  stopped: { name: string; cause: string } | undefined;
  /** The Map and Parallel states that failed: AWS starts nothing more in their branches. */
  readonly failedContainers = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly invocations = new Map<string, number>();
  /** Ends the execution; set once it runs. */
  abort: () => void = () => undefined;

  constructor(
    private readonly lambdaFaults: LambdaFault[] = [],
    /** The run's shared sandbox clock (on the sandbox): a running Task holds it still. */
    readonly time?: SandboxTime,
  ) {}

  stop(name: string, cause: string): void {
    if (this.stopped) return;
    this.stopped = { name, cause };
    this.abort();
    for (const hook of [...this.stopHooks]) hook();
  }

  private readonly stopHooks = new Set<() => void>();

  /** Runs `hook` when the run stops (a child execution stops with it); returns its removal. */
  onStop(hook: () => void): () => void {
    this.stopHooks.add(hook);
    return () => this.stopHooks.delete(hook);
  }

  /** How many times each Lambda Task was invoked. */
  counted(): Record<string, number> {
    return Object.fromEntries(this.invocations);
  }

  /**
   * Wraps a Task's local handler: one turn of the event loop first, so a limit passed or a
   * Parallel failed just before is seen; then nothing runs if the run or its branch has stopped.
   * The payload limit holds for the Task's input and its result. A Task holds the sandbox clock
   * still while it runs, unless it only waits (a Wait, a child execution's Task).
   */
  task(name: string, within: string[], run: (input: Json) => Promise<Json>, holdsClock = true) {
    const handler = async (input: Json): Promise<Json> => {
      await nextTurn();
      if (this.stopped || within.some((c) => this.failedContainers.has(c))) return null;
      if (bytes(input) > AWS_PAYLOAD_LIMIT_BYTES) {
        this.stop('States.DataLimitExceeded', `The input of state '${name}' is larger than 262,144 bytes.`);
        return null;
      }
      const result = await callerTask.run(name, () => run(input));
      if (bytes(result) > AWS_PAYLOAD_LIMIT_BYTES) {
        throw named(
          'States.DataLimitExceeded',
          `The state/task '${name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
        );
      }
      return result;
    };
    return (input: Json) => {
      const running = this.time && holdsClock ? this.time.busy(() => handler(input)) : handler(input);
      this.inflight.add(running);
      void running.catch(() => undefined).finally(() => this.inflight.delete(running));
      return running;
    };
  }

  /** A Lambda Task: counts its invocations and fails the one an injected Lambda fault names. */
  lambdaTask(name: string, within: string[], functionName: string, invoke: (input: Json) => Promise<Json>) {
    return this.task(name, within, async (input) => {
      const attempt = (this.invocations.get(name) ?? 0) + 1;
      this.invocations.set(name, attempt);
      const fault = this.lambdaFaults.find((f) => f.state === name && f.attempt === attempt);
      if (!fault) return invoke(input);
      if (fault.afterWork) await invoke(input).catch(() => undefined);
      throw lambdaFaultError(fault, functionName);
    });
  }

  /** Waits out the Tasks still running (AWS too lets a running Lambda finish; it only starts nothing new). */
  async settle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}
