import {
  type CommandInvocation,
  CommandInvocationStatus,
  type GetCommandInvocationCommandOutput,
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvalidInstanceId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { Clock } from '../clock';
import { isRegistered } from '../managed-instances';
import { InvalidRequestError, NodeCommandFailedError, NodeCommandTimeoutError } from '../errors';
import { type NodeAction, nodeadmLog, nodeadmScript, nodeadmUnit } from './nodeadm';
import {
  type CheckNodeCommandInput,
  type NodeCommand,
  type NodeCommandResult,
  type RunNodeCommandInput,
  RunNodeCommandInputSchema,
} from './state';

/** The AWS-owned document that runs a shell script (SSM user guide, "Running commands"). */
export const RUN_SHELL_SCRIPT = 'AWS-RunShellScript';
/**
 * SendCommand `TimeoutSeconds` is the delivery timeout: "If this time is reached and the command
 * hasn't already started running, it won't run" (SDK SendCommandRequest; 30..2592000). Short, so a
 * host that comes back online hours later never runs a stale uninstall.
 */
export const NODE_COMMAND_DELIVERY_SECONDS = 600;
/**
 * AWS-RunShellScript's `executionTimeout` (default 3600): nodeadm bounds its own run at 20 minutes
 * (aws/eks-hybrid cmd/nodeadm/upgrade/upgrade.go, `--timeout`), then waits up to 5 for the kubelet.
 */
export const NODE_COMMAND_EXECUTION_SECONDS = 1800;
/**
 * How long checkNodeCommand waits for a command. A command expires after its delivery and execution
 * timeouts together, and its invocations still Pending, InProgress or Delayed then turn Delivery
 * Timed Out (SDK Command.ExpiresAfter; SSM user guide, "Understanding command timeout values"):
 * that status is the normal end of a command a host never picked up, so the wait runs past it.
 */
export const NODE_COMMAND_TIMEOUT_SECONDS = NODE_COMMAND_DELIVERY_SECONDS + NODE_COMMAND_EXECUTION_SECONDS + 300;
/**
 * Run Command is eventually consistent: right after SendCommand, GetCommandInvocation may answer
 * InvocationDoesNotExist (SDK GetCommandInvocationCommand docs; the SDK's CommandExecuted waiter
 * retries on it). Past this long, that answer means there is no such invocation.
 */
export const INVOCATION_VISIBILITY_SECONDS = 300;
/** How far back runNodeCommand looks for a command it sent already: a retried Task comes minutes later. */
const LOOKBACK_MS = 24 * 3600_000;
const TAIL_LINES = 20;
const TAIL_LINE_CHARS = 200;
const ACTIVATION_CODE = /activation[-_ ]?code/i;
export const REDACTED_LINE = '[line redacted: it mentions the activation code]';

/** The Comment that marks a command as this request's (SendCommand allows 100 characters). */
export const nodeCommandComment = (requestId: string, action: NodeAction) => `eks-hybrid-ops ${requestId} ${action}`;

function parseComment(comment: string | undefined): { requestId: string; action: NodeAction } | undefined {
  const match = /^eks-hybrid-ops ([a-z0-9-]+) (uninstall|upgrade)$/.exec(comment ?? '');
  return match ? { requestId: match[1] as string, action: match[2] as NodeAction } : undefined;
}

/**
 * Task RunNodeCommand: runs `nodeadm uninstall` or `nodeadm upgrade <version>` on the hybrid node's
 * host through SSM Run Command (`AWS-RunShellScript`, script from ./nodeadm.ts), commented
 * `eks-hybrid-ops <requestId> <action>`. Idempotent: a command with that comment already sent to the
 * instance (a retried Task whose first try SSM took) is returned instead of sending another.
 * SendCommand takes no client token, and ListCommandInvocations may not list a command sent seconds
 * ago (eventual consistency, aws/aws-sdk#190), so a retry that quick can still send a second one:
 * the script then attaches to the first run on the host, or reports its recorded result (state kept
 * per request and action, ./nodeadm.ts), so nodeadm never runs twice for one request.
 */
export async function runNodeCommand(
  deps: { ssm: SSMClient; clock: Clock },
  input: RunNodeCommandInput,
): Promise<NodeCommand> {
  const parsed = RunNodeCommandInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidRequestError(
      `The node command is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`,
      'Start the workflow with the documented input.',
    );
  }
  const now = deps.clock.now();
  const comment = nodeCommandComment(input.requestId, input.action);
  const command = (commandId: string, sentAt: Date | undefined): NodeCommand => ({
    instanceId: input.instanceId,
    commandId,
    sentAt: (sentAt ?? now).toISOString(),
    action: input.action,
    timeoutSeconds: NODE_COMMAND_TIMEOUT_SECONDS,
  });

  try {
    const sent = await findSent(deps.ssm, input.instanceId, comment, now);
    if (sent?.CommandId) return command(sent.CommandId, sent.RequestedDateTime);
    const answer = await deps.ssm.send(
      new SendCommandCommand({
        InstanceIds: [input.instanceId],
        DocumentName: RUN_SHELL_SCRIPT,
        Comment: comment,
        TimeoutSeconds: NODE_COMMAND_DELIVERY_SECONDS,
        Parameters: {
          commands: nodeadmScript(input),
          executionTimeout: [String(NODE_COMMAND_EXECUTION_SECONDS)],
        },
      }),
    );
    if (!answer.Command?.CommandId) throw new Error(`SSM accepted nodeadm ${input.action} without a command id.`);
    return command(answer.Command.CommandId, answer.Command.RequestedDateTime);
  } catch (error) {
    if (error instanceof InvalidInstanceId) {
      throw new NodeCommandFailedError(
        `SSM would not run nodeadm ${input.action} on ${input.instanceId}: ${error.message}`,
        `The instance is not registered with SSM, or its agent is not running: check aws ssm describe-instance-information --filters Key=InstanceIds,Values=${input.instanceId}. A host that is gone cannot run nodeadm.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The newest invocation on the instance with our comment, sent within the lookback. */
async function findSent(
  ssm: SSMClient,
  instanceId: string,
  comment: string,
  now: Date,
): Promise<CommandInvocation | undefined> {
  let newest: CommandInvocation | undefined;
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      new ListCommandInvocationsCommand({
        InstanceId: instanceId,
        Filters: [
          { key: 'DocumentName', value: RUN_SHELL_SCRIPT },
          { key: 'InvokedAfter', value: new Date(now.getTime() - LOOKBACK_MS).toISOString() },
        ],
        MaxResults: 50,
        NextToken,
      }),
    );
    for (const invocation of page.CommandInvocations ?? []) {
      if (invocation.Comment !== comment || invocation.DocumentName !== RUN_SHELL_SCRIPT) continue;
      const at = invocation.RequestedDateTime?.getTime() ?? 0;
      if (!newest || at > (newest.RequestedDateTime?.getTime() ?? 0)) newest = invocation;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return newest;
}

/**
 * The last lines of a command's output, stdout then stderr: at most 20 lines of 200 characters,
 * each line that mentions the activation code replaced (the NodeConfig holds it; nodeadm may log
 * its config). `StandardOutputContent` is the first 24,000 characters (SDK
 * GetCommandInvocationResult), which is why the scripts print only the tail of nodeadm's log.
 */
export function outputTail(stdout: string | undefined, stderr: string | undefined): string[] {
  const lines = [stdout, stderr].flatMap((text) => (text ?? '').split(/\r?\n/)).filter((line) => line.trim() !== '');
  return lines
    .slice(-TAIL_LINES)
    .map((line) =>
      ACTIVATION_CODE.test(line)
        ? REDACTED_LINE
        : line.length > TAIL_LINE_CHARS
          ? `${line.slice(0, TAIL_LINE_CHARS - 3)}...`
          : line,
    );
}

const TERMINAL_FAILURES = new Set<string>([
  CommandInvocationStatus.FAILED,
  CommandInvocationStatus.TIMED_OUT,
  CommandInvocationStatus.CANCELLED,
  CommandInvocationStatus.CANCELLING,
]);

/**
 * Task CheckNodeCommand: one look at the command on the host (`GetCommandInvocation`). Success:
 * done, with the output's tail. Failed, TimedOut, Cancelled (Undeliverable and Delivery Timed Out are
 * their StatusDetails): {@link NodeCommandFailedError} with the status, details, exit code and tail.
 * Pending, InProgress or Delayed past `sentAt + timeoutSeconds`: {@link NodeCommandTimeoutError}.
 *
 * An uninstall is also done once its host has left SSM (no longer listed by
 * DescribeInstanceInformation): nodeadm uninstall stops and removes the SSM agent that runs the
 * command and deregisters the instance, so the agent may never report the command's end (research
 * notes, A2; amazon-ssm-agent issues #316 and #430: commands lost across agent restarts).
 */
export async function checkNodeCommand(
  deps: { ssm: SSMClient; clock: Clock },
  input: CheckNodeCommandInput,
): Promise<NodeCommandResult> {
  const now = deps.clock.now();
  const ageSeconds = (now.getTime() - Date.parse(input.sentAt)) / 1000;
  let invocation: GetCommandInvocationCommandOutput;
  try {
    invocation = await deps.ssm.send(
      new GetCommandInvocationCommand({ CommandId: input.commandId, InstanceId: input.instanceId }),
    );
  } catch (error) {
    if (error instanceof InvocationDoesNotExist && ageSeconds <= INVOCATION_VISIBILITY_SECONDS) {
      return { done: false, status: CommandInvocationStatus.PENDING };
    }
    if (
      error instanceof InvocationDoesNotExist ||
      error instanceof InvalidCommandId ||
      error instanceof InvalidInstanceId
    ) {
      throw new NodeCommandFailedError(
        `SSM has no invocation of command ${input.commandId} on ${input.instanceId} (${error.name}), ${Math.round(ageSeconds)} s after it was sent.`,
        `Look it up with aws ssm list-command-invocations --command-id ${input.commandId} --details; then run the step again.`,
        { cause: error },
      );
    }
    throw error;
  }

  const status = invocation.Status ?? CommandInvocationStatus.PENDING;
  const marked = parseComment(invocation.Comment);
  const tail = () => outputTail(invocation.StandardOutputContent, invocation.StandardErrorContent);
  if (status === CommandInvocationStatus.SUCCESS) return { done: true, status, outputTail: tail() };

  if (marked?.action === 'uninstall' && !(await isRegistered(deps.ssm, input.instanceId))) {
    return {
      done: true,
      status: 'Deregistered',
      outputTail: [
        `The host deregistered from SSM while nodeadm uninstall ran (the command was ${status}); nodeadm removes the SSM agent, so the command's own end may never be reported.`,
        `On the host: journalctl -u ${nodeadmUnit(marked)}; log ${nodeadmLog(marked)}.`,
      ],
    };
  }

  const what = marked ? `nodeadm ${marked.action}` : `command ${input.commandId}`;
  const onHost = marked ? ` On the host: journalctl -u ${nodeadmUnit(marked)}, and ${nodeadmLog(marked)}.` : '';
  if (TERMINAL_FAILURES.has(status)) {
    const output = tail();
    throw new NodeCommandFailedError(
      `${what} on ${input.instanceId} ended ${status} (${invocation.StatusDetails ?? 'no details'}), exit code ${invocation.ResponseCode ?? 'none'}.` +
        (output.length ? ` Last output: ${output.join(' | ')}` : ' No output.'),
      `${failureFix(invocation)}${onHost}`,
    );
  }
  if (ageSeconds > input.timeoutSeconds) {
    throw new NodeCommandTimeoutError(
      `${what} on ${input.instanceId} was still ${status} (${invocation.StatusDetails ?? 'no details'}) ${Math.round(ageSeconds)} s after it was sent (allowed: ${input.timeoutSeconds} s).`,
      `Check the host is online (aws ssm describe-instance-information) and what nodeadm is doing.${onHost} Cancel the command with aws ssm cancel-command --command-id ${input.commandId} if it hangs.`,
    );
  }
  return { done: false, status };
}

function failureFix(invocation: GetCommandInvocationCommandOutput): string {
  const details = invocation.StatusDetails ?? '';
  if (/Undeliverable|Delivery Timed Out/i.test(details)) {
    return 'The host did not pick the command up: check its SSM agent is running and reaches ssm and ec2messages on TCP 443, then run again.';
  }
  return "Read the output above and nodeadm's log on the host, fix the cause, then run again.";
}
