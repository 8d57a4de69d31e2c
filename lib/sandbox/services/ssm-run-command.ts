import {
  type CommandFilter,
  CommandFilterKey,
  CommandStatus,
  type GetCommandInvocationCommandInput,
  type GetCommandInvocationCommandOutput,
  InvalidDocument,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidNextToken,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  type ListCommandInvocationsCommandInput,
  type ListCommandInvocationsCommandOutput,
  type SendCommandCommandInput,
  type SendCommandCommandOutput,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { hostOf, lifecycleCall } from '../hosts';
import { constraintMessage, filteredPage, type PageRange, pageSizeOf } from '../paging';
import type { Answer } from '../service';
import type { SandboxCommand, SandboxInvocation } from '../state';

/**
 * SSM Run Command as the sandbox answers it: `AWS-RunShellScript` sent to managed instances,
 * whose hosts run it (lib/sandbox/hosts.ts), and the invocations' status and output. Limits and
 * errors are the SSM service model's (botocore ssm/2014-11-06/service-2.json, the SDK's types);
 * statuses and timeouts the SSM user guide's ("Understanding command statuses").
 */

const meta = { $metadata: {} };
const validation = (message: string) => new ValidationException({ ...meta, message });
const badToken = () => new InvalidNextToken({ ...meta, message: "The specified token isn't valid." });

/** The only document the sandbox's hosts run. */
export const RUN_SHELL_SCRIPT = 'AWS-RunShellScript';
/** Its one step's plugin (the document's `aws:runShellScript` step), as GetCommandInvocation names it. */
const PLUGIN = 'aws:runShellScript';

/**
 * "The Run Command API follows an eventual consistency model" (the SSM API reference,
 * GetCommandInvocation): right after SendCommand, GetCommandInvocation answers
 * InvocationDoesNotExist (the SDK's CommandExecuted waiter retries on it) and
 * ListCommandInvocations lists nothing (aws/aws-sdk#190: "returns a 200 and an empty list because
 * the commandID was not found yet"). AWS gives no figure; the sandbox hides an invocation this long.
 */
export const INVOCATION_VISIBLE_AFTER_SECONDS = 2;

/**
 * Defaults from the SSM user guide ("Understanding command timeout values"): "The default for
 * Timeout (seconds) is 3600 seconds. The default for Execution Timeout is also 3600 seconds", and
 * the command expires (undelivered invocations become Delivery Timed Out) after their sum.
 */
const DEFAULT_DELIVERY_TIMEOUT = 3600;
const DEFAULT_EXECUTION_TIMEOUT = 3600;
/**
 * AWS-RunShellScript's parameters: `commands` (required, at least one), `workingDirectory`,
 * `executionTimeout` (seconds, at most 172800: the document's allowed pattern).
 */
const SCRIPT_PARAMETERS = ['commands', 'workingDirectory', 'executionTimeout'];
const MAX_EXECUTION_TIMEOUT = 172800;

/** The model's patterns and sizes (SendCommandRequest, GetCommandInvocationRequest, ListCommandInvocationsRequest). */
const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
const DOCUMENT_ARN = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
/** ListCommandInvocations takes MaxResults 1-50; its default is not documented (the sandbox gives 50). */
const LIST_RANGE: PageRange = { member: 'maxResults', min: 1, max: 50, fallback: 50 };
/** GetCommandInvocation gives "the first 24,000 characters written by the plugin to stdout" and the first 8,000 of stderr. */
const STDOUT_MAX = 24000;
const STDERR_MAX = 8000;

function checkConstraint(ok: boolean, member: string, value: unknown, constraint: string): void {
  if (!ok) throw validation(constraintMessage(member, value, constraint));
}

function checkCommandId(id: string | undefined, member: string): void {
  if (id !== undefined) checkConstraint(id.length === 36, member, id, 'have length equal to 36');
}

function checkInstanceId(id: string | undefined, member: string): void {
  if (id !== undefined) {
    checkConstraint(INSTANCE_ID.test(id), member, id, `satisfy regular expression pattern: ${INSTANCE_ID.source}`);
  }
}

const notImplemented = (what: string) =>
  new SandboxNotImplementedError(
    `The sandbox does not implement ${what}.`,
    'Add it to lib/sandbox/services/ssm-run-command.ts, or run with --estate aws.',
  );

/** The document a SendCommand names (a name, or an ARN `arn:...:document/<name>`). */
const documentOf = (name: string) => name.replace(/^arn:[^:]+:ssm:[^:]*:[^:]*:document\//, '');

/** Whether the invocation is visible yet (see {@link INVOCATION_VISIBLE_AFTER_SECONDS}). */
const visible = (estate: SandboxEstate, command: SandboxCommand) =>
  Date.parse(command.requestedAt) + INVOCATION_VISIBLE_AFTER_SECONDS * 1000 <= estate.clock.now().getTime();

/** "Duration since ExecutionStartDateTime", as ISO 8601 (`PT12.5S`). */
const elapsed = (from: string, to: string) => `PT${(Date.parse(to) - Date.parse(from)) / 1000}S`;

function commandView(command: SandboxCommand, status: CommandStatus): NonNullable<SendCommandCommandOutput['Command']> {
  return {
    CommandId: command.commandId,
    DocumentName: command.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: command.comment ?? '',
    ExpiresAfter: new Date(command.expiresAt),
    Parameters: command.parameters,
    InstanceIds: command.instanceIds,
    Targets: [],
    RequestedDateTime: new Date(command.requestedAt),
    Status: status,
    StatusDetails: status,
    OutputS3Region: '',
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
    MaxConcurrency: '50',
    MaxErrors: '0',
    TargetCount: command.instanceIds.length,
    CompletedCount: 0,
    ErrorCount: 0,
    DeliveryTimedOutCount: 0,
    ServiceRole: '',
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    TimeoutSeconds: command.timeoutSeconds,
  };
}

/** Refuses what the sandbox does not do (S3 or CloudWatch output, notifications, targets by tag). */
function refuseUnsupported(input: SendCommandCommandInput): void {
  if (input.Targets?.length) throw notImplemented('Targets in ssm:SendCommand (send to InstanceIds)');
  if (input.OutputS3BucketName || input.OutputS3KeyPrefix) throw notImplemented('S3 output of ssm:SendCommand');
  if (input.CloudWatchOutputConfig?.CloudWatchOutputEnabled)
    throw notImplemented('CloudWatch output of ssm:SendCommand');
  if (input.NotificationConfig || input.ServiceRoleArn) throw notImplemented('notifications of ssm:SendCommand');
  if (input.AlarmConfiguration) throw notImplemented('alarms of ssm:SendCommand');
  if (input.DocumentHash) throw notImplemented('DocumentHash in ssm:SendCommand');
  if (input.DocumentVersion !== undefined && !['$DEFAULT', '$LATEST'].includes(input.DocumentVersion)) {
    throw notImplemented(`version ${input.DocumentVersion} of ${RUN_SHELL_SCRIPT}`);
  }
}

/** AWS-RunShellScript's parameters, as SSM checks them against the document (InvalidParameters). */
function scriptParameters(parameters: Record<string, string[]>): { commands: string[]; executionTimeout: number } {
  const invalid = (message: string) => new InvalidParameters({ ...meta, message });
  const unknown = Object.keys(parameters).filter((p) => !SCRIPT_PARAMETERS.includes(p));
  if (unknown.length) throw invalid(`Parameter "${unknown[0]}" is not defined in the document ${RUN_SHELL_SCRIPT}.`);
  const commands = parameters.commands ?? [];
  if (commands.length === 0) throw invalid('Parameter "commands" is required and must have at least one item.');
  const timeout = parameters.executionTimeout?.[0];
  if (
    timeout !== undefined &&
    !(/^\d+$/.test(timeout) && Number(timeout) >= 1 && Number(timeout) <= MAX_EXECUTION_TIMEOUT)
  ) {
    throw invalid(`Parameter "executionTimeout" must be a whole number of seconds from 1 to ${MAX_EXECUTION_TIMEOUT}.`);
  }
  return { commands, executionTimeout: timeout === undefined ? DEFAULT_EXECUTION_TIMEOUT : Number(timeout) };
}

/**
 * The Status filter values ListCommandInvocations takes (the model's CommandFilter value doc) and
 * what each matches: an invocation's Status, or for the two timeouts its StatusDetails ("TimedOut
 * (this includes both Delivery and Execution time outs)").
 */
const STATUS_FILTER: Record<string, (i: SandboxInvocation) => boolean> = {
  ...Object.fromEntries(
    ['Pending', 'InProgress', 'Delayed', 'Success', 'Cancelled', 'Failed', 'TimedOut'].map((v) => [
      v,
      (i: SandboxInvocation) => i.status === v,
    ]),
  ),
  DeliveryTimedOut: (i) => i.statusDetails === 'Delivery Timed Out',
  ExecutionTimedOut: (i) => i.statusDetails === 'Execution Timed Out',
  ...Object.fromEntries(
    ['AccessDenied', 'Undeliverable', 'InvalidPlatform', 'Terminated'].map((v) => [v, () => false]),
  ),
};

/**
 * ListCommandInvocations' Filters as a test of one invocation (filters AND): 1 to 5 of them, each
 * value 1-128 characters, ExecutionStage for ListCommands only (the model's CommandFilterList and
 * CommandFilter). A timestamp or status SSM cannot read has no error in the model: the sandbox
 * refuses it as a validation error.
 */
function commandFilter(filters: CommandFilter[]): (c: SandboxCommand, i: SandboxInvocation) => boolean {
  checkConstraint(filters.length >= 1, 'filters', filters, 'have length greater than or equal to 1');
  checkConstraint(filters.length <= 5, 'filters', filters, 'have length less than or equal to 5');
  const tests = filters.map((f, n) => {
    const value = f.value ?? '';
    const member = `filters.${n + 1}.member.value`;
    checkConstraint(value.length >= 1 && value.length <= 128, member, value, 'have length between 1 and 128');
    const at = Date.parse(value);
    switch (f.key) {
      case CommandFilterKey.DOCUMENT_NAME:
        return (c: SandboxCommand) => c.documentName === value;
      case CommandFilterKey.INVOKED_AFTER:
      case CommandFilterKey.INVOKED_BEFORE: {
        if (Number.isNaN(at))
          throw validation(`The ${f.key} filter takes a timestamp such as 2024-07-07T00:00:00Z, not ${value}.`);
        const after = f.key === CommandFilterKey.INVOKED_AFTER;
        return (c: SandboxCommand) => (after ? Date.parse(c.requestedAt) >= at : Date.parse(c.requestedAt) < at);
      }
      case CommandFilterKey.STATUS: {
        const matches = STATUS_FILTER[value];
        if (!matches)
          throw validation(`The Status filter takes one of ${Object.keys(STATUS_FILTER).join(', ')}, not ${value}.`);
        return (_c: SandboxCommand, i: SandboxInvocation) => matches(i);
      }
      default:
        throw new InvalidFilterKey({ ...meta, message: "The specified key isn't valid." });
    }
  });
  return (c, i) => tests.every((t) => t(c, i));
}

export const runCommandCommands = {
  SendCommand(estate: SandboxEstate, input: SendCommandCommandInput): Answer<SendCommandCommandOutput> {
    const name = input.DocumentName ?? '';
    checkConstraint(
      DOCUMENT_ARN.test(name),
      'documentName',
      name,
      `satisfy regular expression pattern: ${DOCUMENT_ARN.source}`,
    );
    const comment = input.Comment;
    checkConstraint((comment ?? '').length <= 100, 'comment', comment, 'have length less than or equal to 100');
    const timeout = input.TimeoutSeconds;
    if (timeout !== undefined) {
      checkConstraint(timeout >= 30, 'timeoutSeconds', timeout, 'have value greater than or equal to 30');
      checkConstraint(timeout <= 2592000, 'timeoutSeconds', timeout, 'have value less than or equal to 2592000');
    }
    const ids = input.InstanceIds ?? [];
    checkConstraint(ids.length <= 50, 'instanceIds', ids, 'have length less than or equal to 50');
    ids.forEach((id, n) => checkInstanceId(id, `instanceIds.${n + 1}.member`));
    refuseUnsupported(input);
    if (ids.length === 0) throw notImplemented('ssm:SendCommand without InstanceIds');
    const document = documentOf(name);
    if (document !== RUN_SHELL_SCRIPT) {
      // The account owns no documents of its own here; an AWS-owned one the sandbox cannot run is a gap.
      if (document.startsWith('AWS-')) throw notImplemented(`the document ${document}`);
      throw new InvalidDocument({ ...meta, message: "The specified SSM document doesn't exist." });
    }
    const parameters = input.Parameters ?? {};
    const { commands, executionTimeout } = scriptParameters(parameters);
    // "SSM Agent isn't registered with the SSM endpoint" (the model's InvalidInstanceId); AWS
    // answers it with no message at all (aws/aws-cli#3646).
    if (ids.some((id) => !estate.state.instances[id])) throw new InvalidInstanceId({ ...meta, message: '' });
    if (!lifecycleCall(commands)) {
      throw new SandboxNotImplementedError(
        "The sandbox's hosts run only scripts that run nodeadm uninstall or nodeadm upgrade.",
        'Send one of those (lib/sandbox/hosts.ts simulates them), or run with --estate aws.',
      );
    }
    const now = estate.clock.now();
    const delivery = timeout ?? DEFAULT_DELIVERY_TIMEOUT;
    const unique = [...new Set(ids)];
    const hex = estate.nextId('', 32);
    const command: SandboxCommand = {
      // A UUID, as SSM's CommandIds are (fixed length 36), made from the estate's counter so a seeded run repeats.
      commandId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
      documentName: RUN_SHELL_SCRIPT,
      comment,
      requestedAt: now.toISOString(),
      timeoutSeconds: delivery,
      executionTimeoutSeconds: executionTimeout,
      expiresAt: new Date(now.getTime() + (delivery + executionTimeout) * 1000).toISOString(),
      parameters,
      instanceIds: unique,
      scenario: estate.state.scenario,
      sequence: estate.state.counter,
      invocations: Object.fromEntries(
        unique.map((id) => {
          hostOf(estate, id);
          const invocation: SandboxInvocation = {
            instanceId: id,
            status: 'Pending',
            statusDetails: 'Pending',
            responseCode: -1,
            stdout: '',
            stderr: '',
          };
          return [id, invocation];
        }),
      ),
    };
    estate.state.commands[command.commandId] = command;
    return { Command: commandView(command, CommandStatus.PENDING) };
  },

  GetCommandInvocation(
    estate: SandboxEstate,
    input: GetCommandInvocationCommandInput,
  ): Answer<GetCommandInvocationCommandOutput> {
    checkCommandId(input.CommandId ?? '', 'commandId');
    checkInstanceId(input.InstanceId ?? '', 'instanceId');
    if (input.PluginName !== undefined && input.PluginName !== PLUGIN) {
      throw new InvalidPluginName({ ...meta, message: "The plugin name isn't valid." });
    }
    const command = estate.state.commands[input.CommandId ?? ''];
    const invocation = command?.invocations[input.InstanceId ?? ''];
    if (!command || !invocation || !visible(estate, command)) {
      throw new InvocationDoesNotExist({
        ...meta,
        message: "The command ID and managed node ID you specified didn't match any invocations.",
      });
    }
    const started = invocation.startedAt;
    const now = estate.clock.now().toISOString();
    return {
      CommandId: command.commandId,
      InstanceId: invocation.instanceId,
      Comment: command.comment ?? '',
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: PLUGIN,
      ResponseCode: invocation.responseCode,
      // "If the plugin hasn't started to run, the string is empty."
      ExecutionStartDateTime: started ?? '',
      ExecutionElapsedTime: started ? elapsed(started, invocation.endedAt ?? now) : '',
      ExecutionEndDateTime: invocation.endedAt ?? '',
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      StandardOutputContent: invocation.stdout.slice(0, STDOUT_MAX),
      StandardOutputUrl: '',
      StandardErrorContent: invocation.stderr.slice(0, STDERR_MAX),
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  },

  ListCommandInvocations(
    estate: SandboxEstate,
    input: ListCommandInvocationsCommandInput,
  ): Answer<ListCommandInvocationsCommandOutput> {
    checkCommandId(input.CommandId, 'commandId');
    checkInstanceId(input.InstanceId, 'instanceId');
    const keep = input.Filters === undefined ? () => true : commandFilter(input.Filters);
    if (input.Details) throw notImplemented('Details of ssm:ListCommandInvocations');
    const size = pageSizeOf(input.MaxResults, LIST_RANGE, validation);
    // Newest first, as SSM lists them (the RequestedDateTime of aws/aws-cli#3707's listing falls).
    const commands = Object.values(estate.state.commands)
      .filter((c) => visible(estate, c) && (input.CommandId === undefined || c.commandId === input.CommandId))
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt) || b.sequence - a.sequence);
    const all = commands.flatMap((c) =>
      Object.values(c.invocations)
        .filter((i) => (input.InstanceId === undefined || i.instanceId === input.InstanceId) && keep(c, i))
        .map((i) => ({ command: c, invocation: i })),
    );
    const { page, next } = filteredPage(all, () => true, { token: input.NextToken, size, badToken });
    return {
      NextToken: next,
      CommandInvocations: page.map(({ command, invocation }) => ({
        CommandId: command.commandId,
        InstanceId: invocation.instanceId,
        InstanceName: estate.state.instances[invocation.instanceId]?.name ?? '',
        Comment: command.comment ?? '',
        DocumentName: command.documentName,
        DocumentVersion: '$DEFAULT',
        RequestedDateTime: new Date(command.requestedAt),
        Status: invocation.status,
        StatusDetails: invocation.statusDetails,
        TraceOutput: '',
        StandardOutputUrl: '',
        StandardErrorUrl: '',
        CommandPlugins: [],
        ServiceRole: '',
        CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      })),
    };
  },
};
