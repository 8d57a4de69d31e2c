import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import type { HandlerExecutionContext, InitializeHandlerArguments, MiddlewareStack } from '@smithy/types';
import { createAllAwsClients } from '../aws/all-clients';
import { apiOf, type AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { SandboxNotImplementedError, SandboxStateError } from '../errors';
import { type FaultSpec, faultFor, type SandboxFault, sdkNetworkError } from './faults';
import { advanceOnPrem } from './on-prem';
import { type EstateSeed, parseSeed } from './seed';
import { type SandboxService, sdkError } from './service';
import { SANDBOX_SERVICES } from './services';
import { initialState, type SandboxState } from './state';

/** One call the estate answered (or refused), in order. */
export interface SandboxCall {
  service: string;
  command: string;
  /** The request as the SDK sent it (AWS commands); in memory only, never saved. */
  input?: Record<string, unknown>;
  /** What the caller got: `ok`, the error's name, or `lost` (AWS acted, the answer never arrived). */
  outcome?: string;
  /** What AWS answered, even when the answer was lost on the way; in memory only, never saved. */
  output?: unknown;
  /** The Task state whose Lambda made the call, when the local runner ran it. */
  task?: string;
  /**
   * Whose IAM role signs the call in AWS, when the local runner knows: the function's key in
   * serverless.yml, or `stateMachine:<key>` for a state machine's own service integration.
   */
  principal?: string;
}

/**
 * Who is calling: the local runner runs each Task's handler inside `callerTask.run`, so the estate
 * can say which Task made each call, even with Map and Parallel branches running at once.
 */
export const callerTask = new AsyncLocalStorage<string>();

/** Whose role signs the calls made inside `callerPrincipal.run` (see {@link SandboxCall.principal}). */
export const callerPrincipal = new AsyncLocalStorage<string>();

/**
 * Watchers of every AWS call any estate answers, told before the call is answered (so they see
 * the estate as the caller's request finds it: the tags of a rule about to be deleted, say).
 * The IAM simulation test uses this to turn each call into the IAM request AWS would authorize.
 */
export const callWatchers = new Set<(call: SandboxCall, estate: SandboxEstate) => void>();

/** Calls made inside `outsideWorkflow.run` (a person's own steps in a local run) meet no injected fault. */
export const outsideWorkflow = new AsyncLocalStorage<true>();

/** Where the sandbox keeps its files: `$HYBRIDOPS_HOME`, `.hybridops/` by default. */
export function hybridopsHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HYBRIDOPS_HOME || join(process.cwd(), '.hybridops');
}

export const DEFAULT_SEED = join(__dirname, '..', '..', 'sandbox', 'estate.yaml');

/**
 * The sandbox estate: a stateful simulator of the AWS APIs this project calls and of the on-prem
 * servers that join. It plugs in at the SDK client level (a middleware answers each command from
 * here instead of sending it), so the same lib code runs unchanged. It implements only the
 * commands the project calls, with AWS's own answers for the cases the code handles, and throws
 * {@link SandboxNotImplementedError} for anything else, so a gap never passes silently.
 */
export class SandboxEstate {
  /** Every call answered this session, in order: for tests, the chaos tier and the benchmark. */
  readonly calls: SandboxCall[] = [];
  /** Every SNS message published this session (also written to $HYBRIDOPS_HOME/outbox/). */
  readonly outbox: import('./services/sns').OutboxMessage[] = [];
  /**
   * Every managed instance deregistered this session, with the tags it had (for the chaos tier's
   * checks); `by: 'nodeadm'` when the host's own `nodeadm uninstall` did it, not an API call.
   */
  readonly deregistered: Array<{ instanceId: string; tags: Array<{ Key: string; Value: string }>; by?: 'nodeadm' }> =
    [];
  private readonly services = new Map<string, SandboxService>();

  constructor(
    public state: SandboxState,
    private readonly file?: string,
  ) {}

  /** Opens the state under `home`, seeding it from `seedFile` when there is none (or on reset). */
  static open(home: string, options: { reset?: boolean; seedFile?: string } = {}): SandboxEstate {
    const file = join(home, 'sandbox', 'state.json');
    if (!options.reset) {
      const state = readState(file);
      // A state seeded from a file that has changed since is reseeded: the seed is the source.
      if (state && state.seedHash === seedHash(state.seedSource)) return new SandboxEstate(state, file);
      if (state) options = { seedFile: seedHash(state.seedSource) ? state.seedSource : undefined };
    }
    const seedFile = options.seedFile ?? DEFAULT_SEED;
    const state = { ...initialState(loadSeed(seedFile)), seedSource: seedFile, seedHash: seedHash(seedFile) };
    const estate = new SandboxEstate(state, file);
    estate.save();
    return estate;
  }

  /** An estate that lives in memory only (tests). */
  static inMemory(seed: EstateSeed = loadSeed(DEFAULT_SEED)): SandboxEstate {
    return new SandboxEstate(initialState(seed));
  }

  get home(): string | undefined {
    return this.file ? dirname(dirname(this.file)) : undefined;
  }

  get seed(): EstateSeed {
    return this.state.seed;
  }

  /** The state as this estate last wrote it. */
  private written?: string;

  /**
   * Writes the state back atomically (write, then rename), unless it is as this estate last wrote
   * it: every call saves, and most (a poll that finds nothing new) change nothing, while the file
   * grows with the servers (580 KB with 100 more joined, a disk write per call of a fleet's run).
   */
  save(): void {
    if (!this.file) return;
    const text = JSON.stringify(this.state, null, 1);
    if (text === this.written) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.file);
    this.written = text;
  }

  readonly clock: Clock = { now: () => new Date(Date.now() + this.state.clockOffsetMs) };

  /** Moves the sandbox clock forward, as a Wait state does. */
  advance(seconds: number): void {
    this.state.clockOffsetMs += seconds * 1000;
    this.save();
  }

  /** A fresh id in AWS's format, stable for a given estate and counter (hex of `length`). */
  nextId(prefix: string, length = 17): string {
    this.state.counter += 1;
    const hex = createHash('sha256').update(`${prefix}:${this.state.counter}:${this.state.seed.account}`).digest('hex');
    return `${prefix}${hex.slice(0, length)}`;
  }

  /**
   * Answers a service's commands from here (lib/sandbox/services/index.ts lists them all). A
   * service registered again keeps its other commands: a test can replace one.
   */
  register(service: SandboxService): void {
    const known = this.services.get(service.name);
    this.services.set(service.name, { ...service, commands: { ...known?.commands, ...service.commands } });
  }

  /** Every `service:Command` this estate answers (the commands the project calls). */
  implemented(): string[] {
    return [...this.services.values()].flatMap((s) => Object.keys(s.commands).map((c) => `${s.name}:${c}`));
  }

  /** Injects a fault (lib/sandbox/faults.ts says what each kind looks like to the caller). */
  injectFault(spec: FaultSpec): void {
    this.state.faults.push({ ...spec, seen: 0 });
    this.save();
  }

  /** Drops every injected fault. */
  clearFaults(): void {
    this.state.faults = [];
    this.save();
  }

  /**
   * Records a call of `target` (`service:Command`) and returns the fault that hits it, if any.
   * The Kubernetes, DNS and probe seams call this too, so their faults count the same way.
   */
  faultOn(target: string): SandboxFault | undefined {
    if (outsideWorkflow.getStore() || this.state.faults.length === 0) return undefined;
    const fault = faultFor(this.state.faults, target, callerTask.getStore());
    this.save();
    return fault;
  }

  /** Records a call of one of the non-AWS seams (Kubernetes, DNS, probes). */
  record(service: string, command: string): SandboxCall {
    const call: SandboxCall = { service, command, task: callerTask.getStore() };
    const principal = callerPrincipal.getStore();
    if (principal) call.principal = principal;
    this.calls.push(call);
    return call;
  }

  /** Answers one command, or throws what AWS would (or what an injected fault makes of it). */
  async answer(service: string, command: string, input: Record<string, unknown>): Promise<unknown> {
    const name = command.replace(/Command$/, '');
    const target = `${service}:${name}`;
    const call = this.record(service, name);
    call.input = input;
    for (const watch of callWatchers) watch(call, this);
    const fault = this.faultOn(target);
    if (fault?.effect === 'network') {
      call.outcome = fault.error;
      throw sdkNetworkError(fault.error, target);
    }
    if (fault?.effect === 'error') {
      call.outcome = fault.error;
      // AWS says "Rate exceeded" when it throttles (as the SDK classifies the error's name); any
      // other injected error just says what it is.
      const said = isThrottlingError({ name: fault.error, $metadata: {} } as never) ? 'Rate exceeded' : fault.error;
      throw awsError(service, fault.error, fault.message ?? `${said} (sandbox fault injected on ${target})`);
    }
    const simulated = this.services.get(service);
    const handler = simulated?.commands[name];
    if (!handler) {
      call.outcome = 'SandboxNotImplementedError';
      throw new SandboxNotImplementedError(
        `The sandbox estate does not implement ${target}.`,
        missing(simulated, name),
      );
    }
    advanceOnPrem(this); // the on-prem servers act on their own clock, whoever looks
    let output: unknown;
    try {
      // The SDK sent the input of the command the handler is named for: its own input type.
      output = await handler(this, input as never);
      call.outcome = 'ok';
      call.output = output;
    } catch (error) {
      call.outcome = error instanceof Error ? error.name : 'Error';
      if (fault?.effect !== 'lost-response') throw error;
    } finally {
      this.save();
    }
    if (fault?.effect === 'lost-response') {
      // AWS answered (done, or refused), and the answer never arrived.
      call.outcome = call.outcome === 'ok' ? 'lost' : `lost ${call.outcome}`;
      throw sdkNetworkError(fault.error, target);
    }
    return output;
  }

  /**
   * SDK clients whose every command is answered by this estate. The answer comes before the SDK's
   * own retry middleware, so the estate tries a call as many times as the client would
   * (`maxAttempts`, as lib/aws/clients.ts sets it) on the errors the SDK retries (throttling and
   * transient ones: @smithy/service-error-classification, as its standard and adaptive
   * strategies classify them), without the waits. A fault that passes in time is absorbed as in
   * AWS, and a call whose answer was lost is made again, its work done twice, as in AWS.
   */
  clients(): AwsClients {
    return createAllAwsClients({
      region: this.seed.region,
      credentials: { accessKeyId: 'SANDBOX', secretAccessKey: 'SANDBOX' },
      customize: (client, service) => {
        const maxAttempts = client.config.maxAttempts;
        (client.middlewareStack as MiddlewareStack<object, object>).add(
          (_next, context: HandlerExecutionContext) => async (args: InitializeHandlerArguments<object>) => {
            const attempts = await maxAttempts();
            for (let attempt = 1; ; attempt += 1) {
              try {
                const output = await this.answer(
                  apiOf(service),
                  context.commandName ?? 'Unknown',
                  args.input as Record<string, unknown>,
                );
                return {
                  output: { $metadata: { httpStatusCode: 200, attempts: attempt }, ...(output as object) },
                  response: {},
                };
              } catch (error) {
                if (attempt >= attempts || !sdkRetries(error)) throw error;
              }
            }
          },
          { step: 'initialize', name: 'hybridopsSandboxEstate', priority: 'high' },
        );
      },
    });
  }
}

/** Whether the SDK's retry strategy tries a call again after this error. */
function sdkRetries(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Parameters<typeof isThrottlingError>[0];
  return isThrottlingError(e) || isTransientError(e);
}

function readState(file: string): SandboxState | undefined {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
    if (state.version !== 1) {
      throw new SandboxStateError(
        `Sandbox state ${file} has version ${state.version}.`,
        'Run: hybridops sandbox reset',
      );
    }
    return state;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof SandboxStateError) throw error;
    throw new SandboxStateError(
      `Sandbox state ${file} is unreadable: ${(error as Error).message}.`,
      'Run: hybridops sandbox reset',
    );
  }
}

/** The seed file's content hash; undefined when it cannot be read (the state is then reseeded). */
function seedHash(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

export function loadSeed(file: string): EstateSeed {
  return parseSeed(readFileSync(file, 'utf8'), file);
}

/**
 * Where the handler of a command the estate does not answer goes: the module of its service (a
 * service's name is its client's, not its file's: `resolver` is route53resolver.ts), or a new one.
 */
function missing(service: SandboxService | undefined, command: string): string {
  if (!service) {
    return 'Declare the service in lib/sandbox/services/ and list it in lib/sandbox/services/index.ts, or run with --estate aws.';
  }
  const file = relative(join(__dirname, '..', '..'), service.source);
  return `Add a ${command} handler to the commands in ${file}, or run with --estate aws.`;
}

/**
 * The error the SDK would throw for `name` from `service` (the name lib/aws/clients.ts gives its
 * client): see {@link sdkError}.
 */
export function awsError(service: string, name: string, message: string): Error {
  return sdkError(SANDBOX_SERVICES.find((s) => s.name === service)?.exceptions, name, message);
}
