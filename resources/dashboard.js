/**
 * The stage's CloudWatch dashboard: what operators ask about (lib/metrics.ts METRIC_CATALOGUE, in
 * the EksHybridOps namespace with the stage as `service`) beside the workflows' health (AWS/States
 * per state machine, AWS/Lambda, AWS/ApiGateway, AWS/SNS). The body is the dashboard JSON
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
 * inside Fn::Sub, so the state machine ARNs, the topic name and the region resolve at deploy.
 * Our metrics with a dimension are graphed with SEARCH (one line per value found, exactly that
 * dimension set: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html),
 * so a new error name or phase appears without a change here. test/infra/template.test.ts checks
 * that every metric of the catalogue is on the dashboard. At the top, every alarm of
 * workflow-alarms.js with its state: what is wrong shows here even when no alarm e-mail arrives.
 */
const workflowAlarms = require('./workflow-alarms.js');
const NAMESPACE = 'EksHybridOps';
const STATE_MACHINES = {
  OnboardNodeStateMachine: 'onboard-node',
  OnboardFleetStateMachine: 'onboard-fleet',
  OffboardNodeStateMachine: 'offboard-node',
  UpgradeNodesStateMachine: 'upgrade-nodes',
  ReconcileNetworkStateMachine: 'reconcile-network',
  NightlySweepStateMachine: 'nightly-sweep',
};
const EXECUTIONS = [
  'ExecutionsStarted',
  'ExecutionsSucceeded',
  'ExecutionsFailed',
  'ExecutionsTimedOut',
  'ExecutionsAborted',
];
const HOUR = 3600;
const DAY = 86400;

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  let id = 0;
  /** A metrics row that is an expression (its id must be unique on the widget; unique here on all). */
  const expression = (text, label = '') => [{ id: `e${(id += 1)}`, expression: text, label }];
  /** One line per value of `dimensions` of our metric `name` (SEARCH), with `stat`. */
  const search = (name, dimensions, stat, period, label) =>
    expression(
      `SEARCH('{${NAMESPACE},${['service', ...dimensions].join(',')}} MetricName="${name}" service="${stage}"', '${stat}', ${period})`,
      label,
    );
  /** Our metric with no dimension but the stage. */
  const ours = (name, options = {}) => [NAMESPACE, name, 'service', stage, options];
  const graph = (title, metrics, properties = {}) => ({
    type: 'metric',
    width: 12,
    height: 6,
    properties: {
      title,
      view: 'timeSeries',
      region: '${AWS::Region}',
      stat: 'Sum',
      period: 300,
      metrics,
      ...properties,
    },
  });

  // An alarm widget shows at most 100 alarms
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html#CloudWatch-Dashboard-Properties-Alarm-Widget-Object).
  const { Resources: alarmResources } = await workflowAlarms({ resolveVariable });
  const alarms = Object.entries(alarmResources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([logicalId]) => `\${${logicalId}.Arn}`);
  if (alarms.length > 100) throw new Error(`the dashboard's alarm widget holds 100 alarms, not ${alarms.length}`);

  const widgets = [
    {
      type: 'alarm',
      width: 24,
      height: 4,
      properties: { title: `eks-hybrid-ops ${stage}: alarms`, alarms, sortBy: 'stateUpdatedTimestamp' },
    },
    { type: 'text', width: 24, height: 1, properties: { markdown: `## eks-hybrid-ops ${stage}: onboarding` } },
    graph(
      'Onboardings: started, joined (by outcome), failed (by error)',
      [
        search('OnboardingsStarted', ['Source'], 'Sum', HOUR, 'started'),
        search('OnboardingsJoined', ['Outcome'], 'Sum', HOUR, 'joined'),
        search('OnboardingsFailed', ['ErrorName'], 'Sum', HOUR, 'failed'),
      ],
      { period: HOUR },
    ),
    graph(
      'Phase durations (seconds): p50 and p90',
      [search('PhaseDuration', ['Phase'], 'p50', HOUR, 'p50'), search('PhaseDuration', ['Phase'], 'p90', HOUR, 'p90')],
      { period: HOUR },
    ),
    graph('GPU verifications by verdict', [search('GpuVerifications', ['Verdict'], 'Sum', HOUR)], { period: HOUR }),
    graph('Hybrid Nodes by state (nightly)', [search('HybridNodes', ['State'], 'Maximum', DAY)], {
      period: DAY,
      stat: 'Maximum',
    }),
    { type: 'text', width: 24, height: 1, properties: { markdown: '## Network and nightly sweep' } },
    graph('Reconcile: drift found by kind', [search('ReconcileDrift', ['Kind'], 'Sum', HOUR)], { period: HOUR }),
    graph(
      'Reconcile: actions applied by kind and action',
      [search('ReconcileActions', ['Kind', 'Action'], 'Sum', HOUR)],
      {
        period: HOUR,
      },
    ),
    graph('Sweep findings by check and severity', [search('SweepFindings', ['Check', 'Severity'], 'Sum', DAY)], {
      period: DAY,
    }),
    graph(
      'Cost: month-end forecast vs budget (USD)',
      [
        ours('CostForecast', { label: 'forecast (USD)' }),
        ours('CostBudget', { label: 'budget (USD)' }),
        ours('CostForecastRatio', { label: '% of budget', yAxis: 'right' }),
      ],
      { period: DAY, stat: 'Maximum' },
    ),
    { type: 'text', width: 24, height: 1, properties: { markdown: '## Workflows, functions, API, alerts' } },
    ...Object.entries(STATE_MACHINES).map(([logicalId, name]) =>
      graph(
        `${name} executions`,
        EXECUTIONS.map((metric) => ['AWS/States', metric, 'StateMachineArn', `\${${logicalId}}`]),
        { width: 8 },
      ),
    ),
    // Lambda publishes per FunctionName; ours are named eks-hybrid-ops-<stage>-<function> (a partial match).
    graph('Lambda errors and throttles', [
      expression(
        `SEARCH('{AWS/Lambda,FunctionName} MetricName="Errors" FunctionName=eks-hybrid-ops-${stage}', 'Sum', 300)`,
        'errors',
      ),
      expression(
        `SEARCH('{AWS/Lambda,FunctionName} MetricName="Throttles" FunctionName=eks-hybrid-ops-${stage}', 'Sum', 300)`,
        'throttles',
      ),
    ]),
    // API Gateway publishes per ApiName; the Serverless Framework names the REST API <stage>-<service>.
    graph('API: 4XX and 5XX answers, latency p50/p90 (ms)', [
      ['AWS/ApiGateway', '4XXError', 'ApiName', `${stage}-eks-hybrid-ops`],
      ['AWS/ApiGateway', '5XXError', 'ApiName', `${stage}-eks-hybrid-ops`],
      ['AWS/ApiGateway', 'Latency', 'ApiName', `${stage}-eks-hybrid-ops`, { stat: 'p50', yAxis: 'right' }],
      ['AWS/ApiGateway', 'Latency', 'ApiName', `${stage}-eks-hybrid-ops`, { stat: 'p90', yAxis: 'right' }],
    ]),
    graph('Alerts that could not be delivered (alert topic)', [
      ['AWS/SNS', 'NumberOfNotificationsFailed', 'TopicName', '${AlertTopic.TopicName}'],
    ]),
  ];
  return {
    Resources: {
      Dashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: `${stage}-eks-hybrid-ops`,
          DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
        },
      },
    },
  };
};
