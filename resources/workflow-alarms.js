/**
 * The alarms that catch a workflow that could not say what happened itself: an execution that
 * FAILED (its alert undeliverable: AlertDeliveryError, or any failure), TIMED_OUT (no Catch runs
 * for the execution timeout) or was ABORTED. Each state machine has the three, on the AWS/States
 * metrics Step Functions publishes per state machine, and they notify a topic of their own: when
 * the alert topic is what broke, the alarm must not depend on it. That topic is not encrypted
 * with the AWS-managed SNS key, which CloudWatch cannot publish with; an alarm carries no secret.
 * The same topic has the alarms on the alert topic's failed deliveries and on the API's 5xx answers.
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
    WorkflowAlarmEmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlertEmail',
      Properties: {
        TopicArn: { Ref: 'WorkflowAlarmTopic' },
        Protocol: 'email',
        Endpoint: await resolveVariable('param:alertEmail'),
      },
    },
  };
  for (const machine of STATE_MACHINES) {
    for (const [metric, what] of Object.entries(OUTCOMES)) {
      Resources[`${machine}${metric}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `An execution of ${machine} (stage ${stage}) ${what}; its history in the Step Functions console says why.`,
          Namespace: 'AWS/States',
          MetricName: metric,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
        },
      };
    }
  }
  // Alarms outside the workflows, to the same topic (it does not go through the alert topic, so an
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
  return {
    Resources,
    Outputs: { WorkflowAlarmTopicArn: { Value: { Ref: 'WorkflowAlarmTopic' } } },
  };
};
