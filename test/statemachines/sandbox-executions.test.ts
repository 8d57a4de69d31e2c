import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import { runSandboxExecutions } from '#cli/sandbox-executions';
import { onboardNode } from '#cli/workflows/onboard-node';
import { latestState } from '#lib/executions';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { executionsEnded, runExecutionsWith } from '#lib/sandbox/services/sfn';

/**
 * An execution started through the sandbox's Step Functions runs the real workflow with the local
 * runner, and its history is what the runner saw: what the status APIs read.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-sfn-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

it('runs a started onboarding to its end, its history the states it passed', async () => {
  const estate = withServices(SandboxEstate.inMemory());
  const local = sandboxLocalRuntime(estate, home);
  const arns = runSandboxExecutions(local);
  const prepared = await onboardNode.prepare(readFileSync(EVENT, 'utf8'), local);
  if (!prepared.ok) throw new Error(prepared.problems.join('; '));
  const { requestId } = prepared.input as { requestId: string };
  const sfn = local.runtime.clients.sfn;

  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: arns['onboard-node'],
      name: requestId,
      input: JSON.stringify(prepared.input),
    }),
  );
  await executionsEnded(estate);
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const latest = await latestState<Record<string, unknown>>(sfn, executionArn ?? '');
  runExecutionsWith(estate, undefined);

  expect(described).toMatchObject({ status: 'SUCCEEDED', name: requestId });
  expect(JSON.parse(described.output ?? '{}')).toMatchObject({ requestId });
  const types = history.events?.map((e) => e.type) ?? [];
  expect(types[0]).toBe('ExecutionStarted');
  expect(types.at(-1)).toBe('ExecutionSucceeded');
  const exited = history.events
    ?.filter((e) => e.type === 'TaskStateExited')
    .map((e) => e.stateExitedEventDetails?.name);
  expect(exited).toEqual(expect.arrayContaining(['IssueActivation', 'RenderNodeConfig']));
  expect(latest.state).toBeDefined();
  expect(latest.latest).toBeDefined();
});
