/**
 * The alarms that catch a workflow that could not say what happened itself: an execution that
 * FAILED (its alert undeliverable: AlertDeliveryError, or any failure), TIMED_OUT (no Catch runs
 * for the execution timeout) or was ABORTED. Each state machine has the three, on the AWS/States
 * metrics Step Functions publishes per state machine, and they notify a topic of their own: when
 * the alert topic is what broke, the alarm must not depend on it (its subscriber can be another
 * address too: param alarmEmail, so a broken alertEmail is not the only way to hear of it; the
 * dashboard shows every alarm's state whatever SNS does). That topic is not encrypted
 * with the AWS-managed SNS key, which CloudWatch cannot publish with; an alarm carries no secret.
 * The same topic has the alarms on the alert topic's failed deliveries, on the API's 5xx answers,
 * and on the Lambda functions' errors and throttles.
 */
const STATE_MACHINES = [
  'OnboardNodeStateMachine',
  'OffboardNodeStateMachine',
  'ReconcileNetworkStateMachine',
  'NightlySweepStateMachine',
  'UpgradeNodesStateMachine',
  'OnboardFleetStateMachine',
];
const OUTCOMES = {
  ExecutionsFailed: 'failed (its alert may not have reached the alert topic)',
  ExecutionsTimedOut: 'timed out (no Catch runs for the execution timeout)',
  ExecutionsAborted: 'was stopped',
};

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const Resources = {
    WorkflowAlarmTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: `eks-hybrid-ops-${stage}-workflow-alarms`,
        DisplayName: `eks-hybrid-ops ${stage} alarms`,
      },
    },
  };
  // The alarms' own address (param alarmEmail), else the alerts' (alertEmail); none when both are empty.
  const alarmEmail = (await resolveVariable('param:alarmEmail')) || (await resolveVariable('param:alertEmail'));
  if (alarmEmail) {
    Resources.WorkflowAlarmEmailSubscription = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'WorkflowAlarmTopic' }, Protocol: 'email', Endpoint: alarmEmail },
    };
  }
  // Every alarm notifies the workflow alarm topic (it does not go through the alert topic, so an
  // alert topic that cannot deliver still reaches someone; CloudWatch publishes to it directly).
  const alarm = (description, namespace, metric, dimensions) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description,
      Namespace: namespace,
      MetricName: metric,
      Dimensions: dimensions,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
    },
  });
  for (const machine of STATE_MACHINES) {
    for (const [metric, what] of Object.entries(OUTCOMES)) {
      Resources[`${machine}${metric}Alarm`] = alarm(
        `An execution of ${machine} (stage ${stage}) ${what}; its history in the Step Functions console says why.`,
        'AWS/States',
        metric,
        [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
      );
    }
  }
  // SNS publishes NumberOfNotificationsFailed per TopicName
  // (https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html).
  Resources.AlertTopicDeliveryFailedAlarm = alarm(
    `An operators' alert of stage ${stage} could not be delivered to a subscriber of the alert topic; its delivery logs say why.`,
    'AWS/SNS',
    'NumberOfNotificationsFailed',
    [{ Name: 'TopicName', Value: { 'Fn::GetAtt': ['AlertTopic', 'TopicName'] } }],
  );
  // API Gateway publishes 5XXError per ApiName (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html);
  // the Serverless Framework names the REST API `<stage>-<service>` unless provider.apiName is set.
  Resources.ApiServerErrorsAlarm = alarm(
    `The hybrid-ops API of stage ${stage} answered 5xx (a handler failed or AWS was unavailable); its Lambda logs say why.`,
    'AWS/ApiGateway',
    '5XXError',
    [{ Name: 'ApiName', Value: `${stage}-eks-hybrid-ops` }],
  );
  Object.assign(Resources, lambdaAlarms(stage, await resolveVariable('self:functions')));
  return {
    Resources,
    Outputs: { WorkflowAlarmTopicArn: { Value: { Ref: 'WorkflowAlarmTopic' } } },
  };
};

/**
 * Lambda's own metrics, per function (AWS/Lambda, dimension FunctionName:
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): Errors counts the
 * invocations that ended in an error (a Task's thrown error, which its state machine may Retry or
 * Catch; an API handler answers its errors, so there it counts crashes and timeouts only), and
 * Throttles the invocations refused for want of concurrency.
 */
const LAMBDA_METRICS = {
  Errors: {
    name: 'LambdaErrors',
    what: (folder) =>
      folder === 'api'
        ? 'crashed or timed out (the API answers the errors it knows; these it could not)'
        : 'ended in an error (thrown, crashed or timed out; the workflow may have retried or caught it)',
  },
  Throttles: { name: 'LambdaThrottles', what: () => 'were throttled (the account ran out of Lambda concurrency)' },
};
/** A metric math alarm retrieves at most 10 metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html). */
const METRICS_PER_ALARM = 10;

/**
 * One alarm per workflow (a handler folder: functions/<workflow>/, and functions/api/) and Lambda
 * metric, on the sum of its functions' metric (metric math), rather than one per function: 55
 * functions would make 110 alarms, a third of CloudFormation's 500 resources per stack; these are
 * 18, and each names its functions and where their logs are. A folder of more than 10 functions
 * is split, as a math alarm retrieves at most 10 metrics.
 */
function lambdaAlarms(stage, functions) {
  const groups = new Map();
  for (const [key, fn] of Object.entries(functions)) {
    const folder = fn.handler.split('/')[1];
    groups.set(folder, [...(groups.get(folder) ?? []), key]);
  }
  const pascal = (text) => text.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase());
  const Resources = {};
  for (const [folder, keys] of groups) {
    const parts = Math.ceil(keys.length / METRICS_PER_ALARM);
    const size = Math.ceil(keys.length / parts);
    for (let part = 0; part < parts; part += 1) {
      const mine = keys.slice(part * size, (part + 1) * size);
      const suffix = parts > 1 ? `Part${part + 1}` : '';
      for (const [metric, { name, what }] of Object.entries(LAMBDA_METRICS)) {
        Resources[`${pascal(folder)}${suffix}${name}Alarm`] = {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmDescription:
              `Invocations of the ${folder} functions of stage ${stage} ${what(folder)}: ${mine.join(', ')}. ` +
              `Which one: AWS/Lambda ${metric} by FunctionName (eks-hybrid-ops-${stage}-<function>); why: ` +
              `its log group /aws/lambda/eks-hybrid-ops-${stage}-<function>, and its X-Ray traces.`,
            Metrics: [
              ...mine.map((key, i) => ({
                Id: `f${i}`,
                Label: key,
                ReturnData: false,
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/Lambda',
                    MetricName: metric,
                    Dimensions: [
                      { Name: 'FunctionName', Value: { Ref: `${key[0].toUpperCase()}${key.slice(1)}LambdaFunction` } },
                    ],
                  },
                  Period: 300,
                  Stat: 'Sum',
                },
              })),
              {
                Id: 'total',
                Label: `${metric} of the ${folder} functions`,
                Expression: 'SUM(METRICS())',
                ReturnData: true,
              },
            ],
            EvaluationPeriods: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            TreatMissingData: 'notBreaching',
            AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
          },
        };
      }
    }
  }
  return Resources;
}
