import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadServerlessConfig } from '#cli/serverless-config';
import { METRIC_CATALOGUE, METRICS_NAMESPACE } from '#lib/metrics';
import { type Any, packageStack, ROOT, type Template } from '../helpers/package-stack';

/**
 * Packages the service with osls (offline, no credentials) once, and checks the CloudFormation
 * it wrote: API authorization, least-privilege IAM, the state machine, logging, the topic.
 */

let out: string;
let template: Template;
let remove: () => void;

const { UNSCOPED_ACTIONS, XRAY_FUNCTION_ACTIONS, XRAY_STATE_MACHINE_ACTIONS } = require(
  join(ROOT, 'resources', 'function-roles.js'),
) as { UNSCOPED_ACTIONS: string[]; XRAY_FUNCTION_ACTIONS: string[]; XRAY_STATE_MACHINE_ACTIONS: string[] };
/** CloudWatch Logs delivery actions (Step Functions logging) support only Resource "*". */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

beforeAll(() => {
  ({ template, dir: out, remove } = packageStack('ci'));
}, 240_000);

afterAll(() => remove());

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const statements = (role: Any): Any[] =>
  (role.Properties.Policies ?? []).flatMap((p: Any) => [p.PolicyDocument.Statement].flat());
const list = (value: unknown): unknown[] => [value].flat();

describe('the packaged template', () => {
  it('protects every API method with AWS_IAM', () => {
    const methods = ofType('AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod !== 'OPTIONS');
    expect(methods.map(([, m]) => m.Properties.HttpMethod).sort()).toEqual([
      'DELETE',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'POST',
      'POST',
      'POST',
      'POST',
    ]);
    for (const [, method] of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('grants no "*" action, and "*" resources only to actions AWS does not let a policy scope', () => {
    const roles = ofType('AWS::IAM::Role');
    expect(roles.length).toBeGreaterThanOrEqual(11);
    for (const [name, role] of roles) {
      for (const statement of statements(role)) {
        const actions = list(statement.Action) as string[];
        for (const action of actions) expect(`${name}: ${action}`).not.toMatch(/: (\*|[a-z0-9-]+:\*)$/);
        if (list(statement.Resource).includes('*')) {
          const allowed = [...UNSCOPED_ACTIONS, ...LOG_DELIVERY_ACTIONS, ...XRAY_STATE_MACHINE_ACTIONS];
          expect({ role: name, unscoped: actions.filter((a) => !allowed.includes(a)) }).toEqual({
            role: name,
            unscoped: [],
          });
        }
      }
    }
  });

  it('gives every function its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(loadServerlessConfig('ci').functions).length);
    const roles = functions.map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(new Set(roles).size).toBe(functions.length);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it("lets only onboarding's cleanup and offboarding's RemoveNode deregister instances, only those tagged with the cluster", () => {
    const deregisters = ofType('AWS::IAM::Role').flatMap(([name, role]) =>
      statements(role)
        .filter((s) => list(s.Action).includes('ssm:DeregisterManagedInstance'))
        .map((s) => ({ name, s })),
    );
    expect(deregisters.map((d) => d.name).sort()).toEqual(['CleanUpOnboardingRole', 'RemoveNodeRole']);
    for (const { s } of deregisters) {
      expect(s.Condition.StringEquals).toHaveProperty(['ssm:resourceTag/EKSClusterARN']);
    }
  });

  it('binds every access entry group in deploy/kubernetes/, and the operators only to what a drain does', () => {
    const dir = join(ROOT, 'deploy', 'kubernetes');
    const objects: Any[] = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON()));
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    const bound = bindings.flatMap((b) => b.subjects.filter((s: Any) => s.kind === 'Group').map((s: Any) => s.name));
    const groups = ofType('AWS::EKS::AccessEntry').flatMap(([, e]) => e.Properties.KubernetesGroups as string[]);
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.filter((g) => !bound.includes(g))).toEqual([]);

    const operators = bindings.find((b) => b.metadata.name === 'hybridops-node-operators');
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === operators?.roleRef.name);
    expect(role?.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ]);
  });

  it('lets only runNodeCommand send commands: AWS-RunShellScript, to managed instances tagged with the cluster', () => {
    const sends = ofType('AWS::IAM::Role').flatMap(([name, role]) =>
      statements(role)
        .filter((s) => list(s.Action).includes('ssm:SendCommand'))
        .map((s) => ({ name, s })),
    );
    expect([...new Set(sends.map((d) => d.name))]).toEqual(['RunNodeCommandRole']);
    expect(sends.map(({ s }) => ({ Action: s.Action, Resource: s.Resource, Condition: s.Condition }))).toEqual([
      {
        Action: ['ssm:SendCommand'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}::document/AWS-RunShellScript' },
        Condition: undefined,
      },
      {
        Action: ['ssm:SendCommand'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:managed-instance/*' },
        Condition: {
          StringEquals: {
            'ssm:resourceTag/EKSClusterARN': {
              'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/gpu-hybrid-cluster',
            },
          },
        },
      },
    ]);
  });

  it('lets the GPU smoke test run pods in its one namespace only, and gives that group to its functions alone', () => {
    const objects: Any[] = parseAllDocuments(
      readFileSync(join(ROOT, 'deploy', 'kubernetes', 'gpu-check-rbac.yaml'), 'utf8'),
    ).map((d) => d.toJSON());
    const namespace =
      template.Resources.StartSmokeTestLambdaFunction?.Properties.Environment.Variables.GPU_CHECK_NAMESPACE;
    expect(namespace).toBe('hybridops-gpu-checks');
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace ?? o.metadata.name}`)).toEqual([
      `Namespace ${namespace}`,
      `Role ${namespace}`,
      `RoleBinding ${namespace}`,
    ]);
    const role = objects.find((o) => o.kind === 'Role');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'delete'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    const binding = objects.find((o) => o.kind === 'RoleBinding');
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'hybridops-gpu-checkers' },
    ]);
    const checkers = ofType('AWS::EKS::AccessEntry')
      .filter(([, e]) => (e.Properties.KubernetesGroups as string[]).includes('hybridops-gpu-checkers'))
      .map(([, e]) => e.Properties.PrincipalArn['Fn::GetAtt'][0] as string)
      .sort();
    expect(checkers).toEqual(['CheckSmokeTestRole', 'FinishOnboardingRole', 'StartSmokeTestRole']);
  });

  it("gives offboarding's RemoveNode, of its own functions, the only access entry that may delete Nodes", () => {
    const entries = Object.fromEntries(
      ofType('AWS::EKS::AccessEntry').map(([, e]) => [
        e.Properties.PrincipalArn['Fn::GetAtt'][0] as string,
        e.Properties.KubernetesGroups as string[],
      ]),
    );
    expect(entries.RemoveNodeRole).toEqual(['hybridops-node-operators']);
    for (const reader of ['SubmitOffboardingRole', 'PrepareOffboardingRole', 'CleanUpOffboardingRole']) {
      expect(entries[reader]).toEqual(['hybridops-node-readers']);
    }
  });

  it('lets activations be created only with this cluster tag and the hybrid role be passed only to SSM', () => {
    const issue = template.Resources.IssueActivationRole;
    const create = statements(issue).find((s) => list(s.Action).includes('ssm:CreateActivation'));
    expect(create.Condition.StringEquals).toHaveProperty(['aws:RequestTag/EKSClusterARN']);
    const pass = statements(issue).find((s) => list(s.Action).includes('iam:PassRole'));
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } });
    expect(JSON.stringify(pass.Resource)).toContain(':role/AmazonEKSHybridNodesRole');
  });

  it('builds the state machine from its ASL file, with logging that excludes execution data', () => {
    const machine = template.Resources.OnboardNodeStateMachine;
    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    const [text, substitutions] = machine?.Properties.DefinitionString['Fn::Sub'] ?? [];
    const definition = JSON.parse(text);
    const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines', 'onboard-node.asl.json'), 'utf8'));
    expect(Object.keys(definition.States)).toEqual(Object.keys(asl.States));
    // Each Task's Fn::GetAtt became a reference to the deployed function.
    expect(Object.values(substitutions)).toContainEqual({ 'Fn::GetAtt': ['IssueActivationLambdaFunction', 'Arn'] });
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({ IncludeExecutionData: false, Level: 'ERROR' });
  });

  it('has an encrypted alert topic and log retention on every log group', () => {
    expect(template.Resources.AlertTopic?.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(11);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('keeps activation codes under the stage parameter path the functions are scoped to', () => {
    const render = statements(template.Resources.RenderNodeConfigRole);
    expect(JSON.stringify(render)).toContain('parameter/eks-hybrid-ops/ci/onboarding/*');
    const env = ofType('AWS::Lambda::Function')[0]?.[1].Properties.Environment.Variables;
    expect(env.PARAMETER_PREFIX).toBe('/eks-hybrid-ops/ci');
  });

  it('schedules the network reconciler in plan mode, with a time zone', () => {
    const schedule = template.Resources.ReconcileNetworkStepFunctionsSchedulerSchedule1;
    expect(schedule?.Properties.ScheduleExpressionTimezone).toBe('Asia/Seoul');
    expect(JSON.parse(schedule?.Properties.Target.Input)).toEqual({ mode: 'plan', trigger: 'schedule' });
  });

  it('schedules the nightly sweep at 03:00 Asia/Seoul, and invokes its Map-nested probe function', () => {
    const schedule = template.Resources.NightlySweepStepFunctionsSchedulerSchedule1;
    expect(schedule?.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Seoul',
      Target: { Arn: { Ref: 'NightlySweepStateMachine' } },
    });
    expect(JSON.parse(schedule?.Properties.Target.Input)).toEqual({ trigger: 'schedule' });
    const invoke = statements(template.Resources.NightlySweepStateMachineRole).find((s) =>
      list(s.Action).includes('lambda:InvokeFunction'),
    );
    expect(JSON.stringify(invoke.Resource)).toContain('ProbeBatchLambdaFunction');
  });

  it('keeps the sweep in a private, encrypted, TLS-only bucket whose nights expire', () => {
    const bucket = template.Resources.SweepBucket?.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(bucket.LifecycleConfiguration.Rules[0]).toMatchObject({ Prefix: 'runs/', ExpirationInDays: 30 });
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'cost-names.json', NoncurrentVersionExpirationInDays: 1 }),
    );
    const policy = template.Resources.SweepBucketPolicy?.Properties.PolicyDocument.Statement[0];
    expect(policy).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('lets only the last sweep step replace the alert memory, and only the publisher page', () => {
    const writers = (action: string, resource: string) =>
      ofType('AWS::IAM::Role')
        .filter(([, role]) =>
          statements(role).some(
            (s) => list(s.Action).includes(action) && JSON.stringify(s.Resource).includes(resource),
          ),
        )
        .map(([name]) => name);
    expect(writers('s3:PutObject', 'alert-memory.json')).toEqual(['CommitSweepRole']);
    // The month's Cost Explorer names: the cost check keeps them, no other step touches them.
    expect(writers('s3:PutObject', 'cost-names.json')).toEqual(['SweepCostRole']);
    // Of the functions (the state machines publish their own failure alerts).
    const functions = (names: string[]) => names.filter((n) => !n.endsWith('StateMachineRole'));
    expect(functions(writers('sns:Publish', 'AlertTopic'))).toEqual(['PublishSweepAlertsRole']);
    const inventory = statements(template.Resources.SweepInventoryRole);
    const eks = inventory.find((s) => list(s.Action).includes('eks:ListInsights'));
    expect(JSON.stringify(eks.Resource)).toContain(':cluster/gpu-hybrid-cluster');
  });

  it('deploys the validated network desired state of the stage', () => {
    const parameter = template.Resources.NetworkDesiredStateParameter;
    expect(parameter?.Properties.Name).toBe('/eks-hybrid-ops/ci/desired-state/network');
    expect(JSON.parse(parameter?.Properties.Value)).toEqual({ version: 1, clusters: [] }); // no config/ci.yaml
  });

  it('lets the cost check ask Cost Explorer for the names, spend and forecast it needs, and nothing else', () => {
    const ce = statements(template.Resources.SweepCostRole)
      .flatMap((s) => list(s.Action) as string[])
      .filter((a) => a.startsWith('ce:'));
    expect(ce.sort()).toEqual(['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetDimensionValues']);
  });

  it('creates no VPC endpoints unless params.vpcEndpoints asks (test/infra/vpc-endpoints.test.ts)', () => {
    expect(ofType('AWS::EC2::VPCEndpoint')).toEqual([]);
    expect(ofType('AWS::EC2::SecurityGroup')).toEqual([]);
  });

  it('writes one bundle per function', () => {
    for (const name of ['preflight', 'issueActivation', 'submitOnboarding', 'cleanUpOnboarding']) {
      expect(existsSync(join(out, `${name}.zip`))).toBe(true);
    }
  });
});

describe('tracing', () => {
  const roleOf = (resource: Any): string =>
    resource.Properties.Role?.['Fn::GetAtt']?.[0] ?? resource.Properties.RoleArn['Fn::GetAtt'][0];
  const xrayStatements = (roleName: string) =>
    statements(template.Resources[roleName]).filter((s) => list(s.Action).some((a) => String(a).startsWith('xray:')));

  it('is active on every function, whose role may send its segments: the two X-Ray write actions, on "*"', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [name, fn] of functions) {
      expect({ name, tracing: fn.Properties.TracingConfig }).toEqual({ name, tracing: { Mode: 'Active' } });
      const xray = xrayStatements(roleOf(fn));
      expect({ name, xray: xray.map((s) => ({ actions: list(s.Action), resource: s.Resource })) }).toEqual({
        name,
        xray: [{ actions: XRAY_FUNCTION_ACTIONS, resource: '*' }],
      });
    }
  });

  it('is on for every state machine, whose role has what Step Functions tracing needs, on "*"', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(6);
    for (const [name, machine] of machines) {
      expect({ name, tracing: machine.Properties.TracingConfiguration }).toEqual({ name, tracing: { Enabled: true } });
      const xray = xrayStatements(roleOf(machine));
      const granted = xray.flatMap((s) => list(s.Action).filter((a) => String(a).startsWith('xray:')));
      expect({ name, granted: granted.sort() }).toEqual({ name, granted: [...XRAY_STATE_MACHINE_ACTIONS].sort() });
      for (const statement of xray) expect(list(statement.Resource)).toEqual(['*']);
    }
  });

  it('grants X-Ray actions on "*" only, and only those tracing needs', () => {
    for (const [name, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statements(role)) {
        const xray = list(statement.Action).filter((a) => String(a).startsWith('xray:'));
        if (xray.length === 0) continue;
        expect({ name, resource: list(statement.Resource) }).toEqual({ name, resource: ['*'] });
        expect(xray.filter((a) => !XRAY_STATE_MACHINE_ACTIONS.includes(String(a)))).toEqual([]);
      }
    }
  });

  it('is on for the API stage (osls sets it on the stage at deploy, from provider.tracing)', () => {
    const state = JSON.parse(readFileSync(join(out, 'serverless-state.json'), 'utf8'));
    expect(state.service.provider.tracing).toEqual({ lambda: true, apiGateway: true });
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(1);
  });
});

describe('the workflow alarms', () => {
  it('alarm on failed, timed-out and aborted executions of every state machine, to a topic of their own', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine')
      .map(([name]) => name)
      .sort();
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

    expect(machines).toEqual([
      'NightlySweepStateMachine',
      'OffboardNodeStateMachine',
      'OnboardFleetStateMachine',
      'OnboardNodeStateMachine',
      'ReconcileNetworkStateMachine',
      'UpgradeNodesStateMachine',
    ]);
    for (const machine of machines) {
      const mine = alarms.filter((a) => a.Dimensions?.[0]?.Value.Ref === machine);
      expect(mine.map((a) => a.MetricName).sort()).toEqual([
        'ExecutionsAborted',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
      ]);
      for (const alarm of mine) {
        expect(alarm).toMatchObject({
          Namespace: 'AWS/States',
          Dimensions: [{ Name: 'StateMachineArn' }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
        });
      }
    }
    // Not the alert topic, whose failure is what they catch; and no KMS key CloudWatch cannot use.
    const topic = template.Resources.WorkflowAlarmTopic;
    expect(topic?.Type).toBe('AWS::SNS::Topic');
    expect(topic?.Properties.KmsMasterKeyId).toBeUndefined();
  });

  it('alarm on the errors and throttles of every function, a few functions to an alarm, to the workflow alarm topic', () => {
    const functions = ofType('AWS::Lambda::Function').map(([name]) => name);
    const lambdaAlarms = ofType('AWS::CloudWatch::Alarm')
      .map(([name, a]) => ({ name, ...a.Properties }))
      .filter((a) => a.Metrics?.some((m: Any) => m.MetricStat?.Metric.Namespace === 'AWS/Lambda'));
    for (const metric of ['Errors', 'Throttles']) {
      const watched = lambdaAlarms.flatMap((a) =>
        (a.Metrics as Any[])
          .filter((m) => m.MetricStat?.Metric.MetricName === metric)
          .map((m) => m.MetricStat.Metric.Dimensions[0].Value.Ref as string),
      );
      // Each function once, none left out.
      expect({ metric, functions: [...watched].sort() }).toEqual({ metric, functions: [...functions].sort() });
    }
    // Fewer alarms than functions (a math alarm retrieves at most 10 metrics), each summing its own.
    expect(lambdaAlarms.length).toBeLessThan(functions.length);
    for (const alarm of lambdaAlarms) {
      const stats = (alarm.Metrics as Any[]).filter((m) => m.MetricStat);
      expect(stats.length).toBeLessThanOrEqual(10);
      expect(new Set(stats.map((m) => m.MetricStat.Metric.MetricName)).size).toBe(1);
      expect((alarm.Metrics as Any[]).filter((m) => m.ReturnData !== false)).toEqual([
        expect.objectContaining({ Expression: 'SUM(METRICS())', ReturnData: true }),
      ]);
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
      });
      // It tells the operator which functions, and where their logs are.
      for (const stat of stats) expect(alarm.AlarmDescription).toContain(stat.Label);
      expect(alarm.AlarmDescription).toContain('/aws/lambda/eks-hybrid-ops-ci-');
    }
  });

  it("alarm on the alert topic's failed deliveries and the API's 5xx answers, to the workflow alarm topic", () => {
    const shared = {
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'WorkflowAlarmTopic' }],
    };
    expect(template.Resources.AlertTopicDeliveryFailedAlarm?.Properties).toMatchObject({
      ...shared,
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Dimensions: [{ Name: 'TopicName', Value: { 'Fn::GetAtt': ['AlertTopic', 'TopicName'] } }],
    });
    const api = ofType('AWS::ApiGateway::RestApi')[0]?.[1];
    expect(template.Resources.ApiServerErrorsAlarm?.Properties).toMatchObject({
      ...shared,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: api?.Properties.Name }],
    });
  });
});

describe('the dashboard', () => {
  const dashboard = () => ofType('AWS::CloudWatch::Dashboard');
  /** The body with each ${...} of its Fn::Sub replaced, and the names it substituted. */
  const body = () => {
    const sub = dashboard()[0]?.[1].Properties.DashboardBody['Fn::Sub'] as string;
    const names: string[] = [];
    const text = sub.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      names.push(name);
      return `resolved:${name}`;
    });
    return { json: JSON.parse(text) as { widgets: Any[] }, names };
  };
  const rows = () => body().json.widgets.flatMap((w) => (w.properties.metrics ?? []) as unknown[][]);

  it('is one dashboard named for the stage, its body JSON once Fn::Sub resolves names the stack has', () => {
    expect(dashboard().map(([, r]) => r.Properties.DashboardName)).toEqual(['ci-eks-hybrid-ops']);
    const { json, names } = body();
    expect(json.widgets.length).toBeGreaterThan(0);
    for (const name of names) {
      if (name.startsWith('AWS::')) continue;
      expect(Object.keys(template.Resources)).toContain(name.split('.')[0]);
    }
    expect(names).toContain('AWS::Region');
  });

  it('shows the state of every alarm of the stack, so a failure is seen even when no alarm e-mail arrives', () => {
    const alarmWidgets = body().json.widgets.filter((w) => w.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    const shown = (alarmWidgets[0].properties.alarms as string[]).sort();
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([id]) => `resolved:${id}.Arn`);
    expect(alarms.length).toBeGreaterThan(20);
    expect(shown).toEqual(alarms.sort());
  });

  it('graphs every metric of METRIC_CATALOGUE, with exactly its dimensions and the stage as service', () => {
    const searches = rows()
      .map((r) => (r[0] as { expression?: string }).expression ?? '')
      .filter((e) => e.startsWith(`SEARCH('{${METRICS_NAMESPACE},`));
    const plain = rows().filter((r) => r[0] === METRICS_NAMESPACE);
    for (const [name, { dimensions }] of Object.entries(METRIC_CATALOGUE)) {
      const schema = `{${[METRICS_NAMESPACE, 'service', ...dimensions].join(',')}} MetricName="${name}" service="ci"`;
      const searched = searches.some((e) => e.includes(schema));
      const direct = dimensions.length === 0 && plain.some((r) => r[1] === name && r[2] === 'service' && r[3] === 'ci');
      expect({ name, onDashboard: searched || direct }).toEqual({ name, onDashboard: true });
    }
  });

  it("shows each state machine's executions, Lambda errors and throttles, the API's answers and failed alert deliveries", () => {
    const machines = ofType('AWS::StepFunctions::StateMachine').map(([id]) => id);
    expect(machines.length).toBeGreaterThan(0);
    for (const machine of machines) {
      for (const metric of ['Started', 'Succeeded', 'Failed', 'TimedOut', 'Aborted']) {
        expect(rows()).toContainEqual(['AWS/States', `Executions${metric}`, 'StateMachineArn', `resolved:${machine}`]);
      }
    }
    const expressions = rows().map((r) => (r[0] as { expression?: string }).expression ?? '');
    for (const metric of ['Errors', 'Throttles']) {
      expect(expressions).toContainEqual(expect.stringContaining(`{AWS/Lambda,FunctionName} MetricName="${metric}"`));
    }
    const api = ofType('AWS::ApiGateway::RestApi')[0]?.[1].Properties.Name;
    for (const metric of ['4XXError', '5XXError', 'Latency']) {
      expect(rows()).toContainEqual(expect.arrayContaining(['AWS/ApiGateway', metric, 'ApiName', api]));
    }
    expect(rows()).toContainEqual([
      'AWS/SNS',
      'NumberOfNotificationsFailed',
      'TopicName',
      'resolved:AlertTopic.TopicName',
    ]);
  });
});
