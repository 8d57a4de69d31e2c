import type * as z from 'zod';
import type { ServiceName } from '../aws/clients';
import type { SandboxEstate } from './estate';

/**
 * What a simulated AWS service declares about itself. Each module under lib/sandbox/services/
 * exports one (with `satisfies`, so its handlers keep their own types), and
 * lib/sandbox/services/index.ts lists them: the estate answers their commands, raises their SDK
 * exceptions, and reads their seed sections from that list alone.
 */
export interface SandboxService<Seed extends z.ZodRawShape = NoSeed> {
  /** The client whose calls it answers (lib/aws/clients.ts), as calls and faults name it: `ssm:PutParameter`. */
  readonly name: ServiceName;
  /** The module that declares it (its `__filename`), named when a command is missing. */
  readonly source: string;
  readonly exceptions: SdkExceptions;
  /** Each command it answers, by the SDK's name without `Command` (see {@link CommandHandler}). */
  readonly commands: Readonly<Record<string, AnyCommandHandler>>;
  /** The top-level sections it adds to the seed (sandbox/estate.yaml), as zod schemas. */
  readonly seed?: Seed;
}

/** The seed sections of a service that adds none. */
export type NoSeed = Record<never, never>;

/**
 * One command's handler: answers it from the estate's state as AWS would, or throws what AWS
 * would. `Input` and `Output` are the SDK's own `<Command>CommandInput` and `<Command>CommandOutput`
 * types (imported with `import type`), so a request or answer of the wrong shape fails to compile.
 * The answer leaves out `$metadata`: the estate adds it, as the SDK does.
 */
export type CommandHandler<Input extends object, Output extends object> = (
  estate: SandboxEstate,
  input: Input,
) => Answer<Output> | Promise<Answer<Output>>;

/** A command's answer as a handler gives it: the SDK's output without `$metadata`. */
export type Answer<Output extends object> = Omit<Output, '$metadata'>;

/**
 * Any command's handler, as a service's `commands` holds them: the estate calls each with the input
 * of the SDK command it is named for, so every typed {@link CommandHandler} fits here.
 */
export type AnyCommandHandler = (estate: SandboxEstate, input: never) => unknown;

/** Options every SDK v3 base exception takes (`ServiceExceptionOptions` in @smithy/smithy-client). */
interface ExceptionOptions {
  name: string;
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode?: number };
  message: string;
}
/** A service's base exception class (`SSMServiceException`, `EC2ServiceException`, ...). */
export type BaseExceptionClass = new (options: ExceptionOptions) => Error;
/** A modelled exception class (`ParameterNotFound`): its name is its own, its fault the model's. */
type ModeledExceptionClass = new (options: Omit<ExceptionOptions, 'name' | '$fault'>) => Error;

/** Where a service's SDK exceptions come from. */
export interface SdkExceptions {
  /** The base exception, for an error the service does not model. */
  readonly base: BaseExceptionClass;
  /** The SDK package's exports (`import * as sdk`), where its modelled exceptions are found by name. */
  readonly module: Readonly<Record<string, unknown>>;
}

const isModeled = (value: unknown, base: BaseExceptionClass): value is ModeledExceptionClass =>
  typeof value === 'function' && value.prototype instanceof base;

/**
 * The error the SDK would throw for `name` from a service: its own exception class when the
 * service models one (ParameterNotFound, ThrottlingException, ...), else the service's base
 * exception with that name, as the SDK builds it for unmodelled errors; a plain Error carrying
 * the name when there is no service to ask.
 */
export function sdkError(exceptions: SdkExceptions | undefined, name: string, message: string): Error {
  // As the SDK reports them: throttling is a client fault (HTTP 400), outages a server fault.
  const $fault = /Internal|Unavailable/.test(name) ? 'server' : 'client';
  const $metadata = { httpStatusCode: $fault === 'server' ? 503 : 400 };
  if (!exceptions) return Object.assign(new Error(message), { name, $fault, $metadata });
  const Modeled = exceptions.module[name];
  if (isModeled(Modeled, exceptions.base)) return new Modeled({ $metadata, message });
  return new exceptions.base({ name, $fault, $metadata, message });
}
