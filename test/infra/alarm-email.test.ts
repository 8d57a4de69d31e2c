/**
 * Where the alarms go: resources/workflow-alarms.js, called as serverless.yml's
 * `${file(./resources/workflow-alarms.js)}` calls it, with the params a deployer sets. The alarms
 * are how an operator hears that alerts are not delivered, so they may go to an address of their
 * own (param alarmEmail), else to alertEmail's, and to none when neither is set.
 */
const workflowAlarms = require('../../resources/workflow-alarms.js') as (ctx: {
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<{ Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }>;

const FUNCTIONS = { checkNode: { handler: 'functions/onboard-node/check-node.handler' } };

async function subscriptions(params: Record<string, string>) {
  const resolveVariable = async (name: string) =>
    name === 'sls:stage' ? 'ci' : name === 'self:functions' ? FUNCTIONS : (params[name.replace('param:', '')] ?? '');
  const { Resources } = await workflowAlarms({ resolveVariable });
  return Object.values(Resources)
    .filter((r) => r.Type === 'AWS::SNS::Subscription')
    .map((r) => r.Properties);
}

it('subscribes alarmEmail to the alarm topic when it is given, instead of alertEmail', async () => {
  await expect(subscriptions({ alertEmail: 'team@example.com', alarmEmail: 'oncall@example.com' })).resolves.toEqual([
    { TopicArn: { Ref: 'WorkflowAlarmTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
  ]);
});

it("falls back to alertEmail's address, and subscribes no one when neither is set", async () => {
  await expect(subscriptions({ alertEmail: 'team@example.com' })).resolves.toEqual([
    { TopicArn: { Ref: 'WorkflowAlarmTopic' }, Protocol: 'email', Endpoint: 'team@example.com' },
  ]);
  await expect(subscriptions({})).resolves.toEqual([]);
});
