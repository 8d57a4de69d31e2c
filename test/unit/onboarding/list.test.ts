import { InvalidToken, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { listOnboardings } from '#test/helpers/api-answer';
import { settings, STATE_MACHINE_ARN } from '#test/helpers/onboarding-fixtures';

const sfnMock = mockClient(SFNClient);
const deps = () => ({ sfn: new SFNClient({ region: 'ap-northeast-2' }), settings: settings() });
const listInputs = () => sfnMock.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input);
const arnOf = (name: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

beforeEach(() => sfnMock.reset());

describe('GET /nodes (listOnboardings)', () => {
  it('lists one page of the onboard-node executions, as Step Functions orders them, with its nextToken', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: arnOf('gpu-node-02-poc-1-aaaaaaaaaaaa'),
          stateMachineArn: STATE_MACHINE_ARN,
          name: 'gpu-node-02-poc-1-aaaaaaaaaaaa',
          status: 'RUNNING',
          startDate: new Date('2026-11-30T10:00:00Z'),
        },
        {
          executionArn: arnOf('gpu-node-01-poc-1-bbbbbbbbbbbb'),
          stateMachineArn: STATE_MACHINE_ARN,
          name: 'gpu-node-01-poc-1-bbbbbbbbbbbb',
          status: 'FAILED',
          startDate: new Date('2026-11-30T08:00:00Z'),
          stopDate: new Date('2026-11-30T09:30:00Z'),
        },
      ],
      nextToken: 'sfn-token-2',
    });

    const answer = await listOnboardings(deps(), null);

    expect(answer).toEqual({
      statusCode: 200,
      body: {
        nodes: [
          { requestId: 'gpu-node-02-poc-1-aaaaaaaaaaaa', status: 'RUNNING', startedAt: '2026-11-30T10:00:00.000Z' },
          {
            requestId: 'gpu-node-01-poc-1-bbbbbbbbbbbb',
            status: 'FAILED',
            startedAt: '2026-11-30T08:00:00.000Z',
            stoppedAt: '2026-11-30T09:30:00.000Z',
          },
        ],
        nextToken: 'sfn-token-2',
      },
    });
    expect(listInputs()).toEqual([{ stateMachineArn: STATE_MACHINE_ARN, maxResults: 50 }]);
  });

  it('passes status, limit and nextToken to ListExecutions', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const answer = await listOnboardings(deps(), { status: 'TIMED_OUT', limit: '100', nextToken: 'sfn-token-2' });

    expect(answer).toEqual({ statusCode: 200, body: { nodes: [] } });
    expect(listInputs()).toEqual([
      { stateMachineArn: STATE_MACHINE_ARN, maxResults: 100, statusFilter: 'TIMED_OUT', nextToken: 'sfn-token-2' },
    ]);
  });

  it('answers 400 with every problem of the query, and asks Step Functions nothing', async () => {
    const answer = await listOnboardings(deps(), {
      status: 'PENDING_REDRIVE',
      limit: '101',
      nextToken: '',
      sort: 'asc',
    });

    expect(answer.statusCode).toBe(400);
    expect(answer.body).toEqual({
      message: 'The list request has 4 problem(s).',
      problems: [
        { field: 'sort', message: 'sort is not a parameter of GET /nodes (status, limit, nextToken)' },
        {
          field: 'status',
          message: "status must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, not 'PENDING_REDRIVE'",
        },
        { field: 'limit', message: "limit must be a whole number from 1 to 100, not '101'" },
        { field: 'nextToken', message: 'nextToken must be the nextToken of the previous page, not empty' },
      ],
    });
    expect(listInputs()).toEqual([]);
  });

  it.each(['0', '-1', '2.5', 'ten', ''])('refuses limit=%j', async (limit) => {
    const answer = await listOnboardings(deps(), { limit });

    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('limit must be a whole number from 1 to 100');
  });

  it('answers 400 for a nextToken Step Functions no longer takes (InvalidToken: expired after 24 hours)', async () => {
    sfnMock.on(ListExecutionsCommand).rejects(new InvalidToken({ $metadata: {}, message: 'Invalid Token' }));

    const answer = await listOnboardings(deps(), { nextToken: 'stale' });

    expect(answer).toMatchObject({
      statusCode: 400,
      body: {
        message: 'nextToken is not one this list gave, or it has expired (after 24 hours).',
        fix: 'List again without nextToken, with the same status filter.',
      },
    });
  });
});
