/**
 * One IAM role per function, each with only what that function calls (see the lib function it
 * runs). Serverless merges the returned object into the CloudFormation template; the infra tests
 * (test/infra) check the packaged result: no "*" action anywhere, and "*" resources only for
 * the read-only actions that AWS does not let a policy scope (listed in READ_ONLY_UNSCOPED).
 */

/**
 * Actions that support no resource-level permissions (Service Authorization Reference): AWS
 * requires Resource "*" for them. Where a condition key can narrow one, the statement uses it.
 */
const UNSCOPED_ACTIONS = [
  'ec2:DescribeVpcs',
  'ssm:DescribeInstanceInformation',
  'ssm:DescribeActivations',
  'ssm:CreateActivation',
  'ssm:DeleteActivation',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroupRules',
  'ec2:DescribeNetworkInterfaces',
  'route53resolver:ListResolverRules',
  'route53resolver:ListResolverRuleAssociations',
  'ce:GetCostAndUsage',
  'ce:GetCostForecast',
  'ce:GetDimensionValues',
  'ssm:ListCommandInvocations',
  'ssm:GetCommandInvocation',
];

/**
 * X-Ray's write actions, which have no resource type (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html): AWS
 * requires Resource "*". A traced function sends its segments with the first two (Lambda
 * developer guide, https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html); a traced
 * state machine's role also reads the sampling rules (Step Functions developer guide,
 * https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html).
 */
const XRAY_FUNCTION_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
const XRAY_STATE_MACHINE_ACTIONS = [...XRAY_FUNCTION_ACTIONS, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  // The network desired state names the clusters, endpoints, file systems and security groups
  // the reconciler may touch; its functions are scoped to exactly those.
  const network = require('./network-desired-state.js').desiredState(stage);
  const cluster = await resolveVariable('param:clusterName');
  const hybridRole = await resolveVariable('param:hybridNodesRoleName');
  const service = 'eks-hybrid-ops';

  const sub = (text) => ({ 'Fn::Sub': text });
  const clusterArn = sub(`arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${cluster}`);
  const accessEntries = sub(`arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:access-entry/${cluster}/*`);
  const parameters = (path) =>
    sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${service}/${stage}/${path}`);
  const onboardingParameters = parameters('onboarding/*');
  const activationCodes = parameters('onboarding/*/activation-code');
  const nodeConfigs = parameters('onboarding/*/node-config');
  const lockParameters = parameters(`locks/${cluster}/*`);
  const stateMachine = { Ref: 'OnboardNodeStateMachine' };
  const executions = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${service}-${stage}-onboard-node:*`,
  );
  const offboardMachine = { Ref: 'OffboardNodeStateMachine' };
  const offboardExecutions = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${service}-${stage}-offboard-node:*`,
  );
  // The account's SSM activation tier, read by the quota checks (resource type servicesetting).
  const activationTierSetting = sub(
    `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:servicesetting/ssm/managed-instance/activation-tier`,
  );
  const managedInstances = sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:managed-instance/*`);
  const fleetMachine = { Ref: 'OnboardFleetStateMachine' };
  const fleetExecutions = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${service}-${stage}-onboard-fleet:*`,
  );
  const upgradeMachine = { Ref: 'UpgradeNodesStateMachine' };
  const upgradeExecutions = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${service}-${stage}-upgrade-nodes:*`,
  );
  // A fleet's manifest and result (lib/fleets/state.ts fleetKeys).
  const fleetObjects = (name) => sub(`\${SweepBucket.Arn}/fleets/*/${name}`);
  const hybridRoleArn = sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${hybridRole}`);
  const taggedWithThisCluster = { StringEquals: { 'ssm:resourceTag/EKSClusterARN': clusterArn } };
  // An AWS-owned document: its ARN has no account (SSM user guide, "Setting up identity based
  // policies examples": the account ID is not specified for Amazon owned public documents).
  const runShellScript = sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}::document/AWS-RunShellScript`);
  // CreateActivation cannot be scoped to a resource; the tag it must carry scopes it to this cluster.
  const forThisCluster = { StringEquals: { 'aws:RequestTag/EKSClusterARN': clusterArn } };

  const allow = (Action, Resource, Condition) => ({
    Effect: 'Allow',
    Action,
    Resource,
    ...(Condition && { Condition }),
  });

  const arn = (service, resource) =>
    sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`);
  const declared = (pick) => [...new Set(network.clusters.flatMap(pick))];
  const orNothing = (resources) => (resources.length ? resources : [arn('ec2', 'nothing-declared/none')]);
  const networkClusters = orNothing(declared((c) => [c.name]).map((n) => arn('eks', `cluster/${n}`)));
  // Only the INBOUND endpoints are read (the two-AZ check, the on-prem -> AWS resolution checks);
  // the outbound one is named in the rules the apply creates, which IAM does not check against it.
  const inboundEndpoints = orNothing(
    declared((c) => (c.dns?.inbound ? [c.dns.inbound.endpointId] : [])).map((id) =>
      arn('route53resolver', `resolver-endpoint/${id}`),
    ),
  );
  const fileSystems = orNothing(
    declared((c) => (c.efs ? [c.efs.fileSystemId] : [])).map((id) => arn('elasticfilesystem', `file-system/${id}`)),
  );
  const mountTargetGroups = orNothing(
    declared((c) => (c.efs ? [c.efs.securityGroupId] : [])).map((id) => arn('ec2', `security-group/${id}`)),
  );
  const resolverRules = arn('route53resolver', 'resolver-rule/*');
  // Planning reads the cluster (DescribeCluster, and DescribeVpcs for its CIDRs) and the subnets'
  // AZs: the inbound endpoint's for the Resolver side, the cluster's for the EFS side.
  const clusterReads = [
    allow(['eks:DescribeCluster'], networkClusters),
    allow(['ec2:DescribeVpcs', 'ec2:DescribeSubnets'], '*'),
  ];

  // The nightly sweep: every cluster it sweeps (the declared ones and the stage's). The run store:
  // every run's objects (the sweep's nights, the reconciler's plans and outcomes), and the alert memory.
  const sweptClusters = [...new Set([cluster, ...declared((c) => [c.name])])].map((n) => arn('eks', `cluster/${n}`));
  const bucket = { 'Fn::GetAtt': ['SweepBucket', 'Arn'] };
  const objects = (path) => sub(`\${SweepBucket.Arn}/${path}`);
  const runObjects = objects('runs/*');
  const memory = objects('alert-memory.json');
  // The Cost Explorer names the sweep discovered this month (lib/sweep/store.ts COST_NAMES_KEY).
  const costNames = objects('cost-names.json');
  // An upgrade's plan, its waves' outcomes and its report (lib/upgrades/state.ts upgradeKeys).
  const upgradeObjects = objects('runs/upgrade-*');
  // Every reader of the run store: without ListBucket, S3 answers AccessDenied instead of
  // NoSuchKey for an object not written (or expired), and the step fails with AccessDenied
  // instead of the store's own error and its fix (S3 API reference, GetObject, Permissions).
  const listBucket = allow(['s3:ListBucket'], bucket);
  const inVpc = [
    // A function in a VPC manages its network interfaces (AWSLambdaVPCAccessExecutionRole's actions).
    allow(
      ['ec2:CreateNetworkInterface'],
      [arn('ec2', 'subnet/*'), arn('ec2', 'security-group/*'), arn('ec2', 'network-interface/*')],
    ),
    allow(
      ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      arn('ec2', 'network-interface/*'),
    ),
    allow(['ec2:DescribeNetworkInterfaces'], '*'),
  ];

  /** function key -> the statements it needs besides writing its own logs. */
  const table = {
    submitOnboarding: [
      allow(['states:StartExecution'], stateMachine),
      allow(['states:DescribeExecution'], executions),
      allow(['eks:DescribeCluster'], clusterArn),
      allow(['ec2:DescribeVpcs'], '*'),
      // SSM's standard-tier limit (lib/ssm-quota.ts): the tier, and the on-prem instances it counts.
      allow(['ssm:GetServiceSetting'], activationTierSetting),
      allow(['ssm:DescribeInstanceInformation'], '*'),
    ],
    // GET /nodes: one page of the onboard-node state machine's executions (ListExecutions is
    // authorized on the state machine: Service Authorization Reference, AWS Step Functions).
    listOnboardings: [allow(['states:ListExecutions'], stateMachine)],
    getOnboarding: [allow(['states:DescribeExecution', 'states:GetExecutionHistory'], executions)],
    // POST /fleets: one DescribeCluster for the fleet, the servers' locks (GetParameters, 10 a
    // call), SSM's tier with the fleet's size, the manifest, then the fleet's execution (found
    // first when the token was used).
    submitFleet: [
      allow(['states:StartExecution'], fleetMachine),
      allow(['states:DescribeExecution'], fleetExecutions),
      allow(['eks:DescribeCluster'], clusterArn),
      allow(['ec2:DescribeVpcs'], '*'),
      allow(['ssm:GetParameters'], lockParameters),
      allow(['ssm:GetServiceSetting'], activationTierSetting),
      allow(['ssm:DescribeInstanceInformation'], '*'),
      allow(['s3:PutObject'], fleetObjects('manifest.json')),
    ],
    // GET /fleets/{fleetId}: the fleet, then its result (one read) or each running server as GET /nodes reads it.
    getFleet: [
      allow(['states:DescribeExecution'], fleetExecutions),
      allow(['states:DescribeExecution', 'states:GetExecutionHistory'], executions),
      allow(['s3:GetObject'], fleetObjects('result.json')),
      listBucket,
    ],
    // The NodeConfig parameters only (GetParameters, 10 a call), never the raw activation codes.
    getFleetNodeConfigs: [
      allow(['states:DescribeExecution'], fleetExecutions),
      allow(['ssm:GetParameters'], nodeConfigs),
    ],
    prepareMember: [allow(['s3:GetObject'], fleetObjects('manifest.json')), listBucket],
    summarizeFleet: [
      allow(['s3:GetObject'], fleetObjects('manifest.json')),
      allow(['s3:PutObject'], fleetObjects('result.json')),
      listBucket,
    ],
    // The NodeConfig parameters only, not the raw activation codes beside them.
    getNodeConfig: [allow(['states:DescribeExecution'], executions), allow(['ssm:GetParameter'], nodeConfigs)],
    preflight: [
      allow(['eks:DescribeCluster', 'eks:ListAccessEntries'], clusterArn),
      allow(['eks:DescribeAccessEntry'], accessEntries),
      allow(['ec2:DescribeVpcs'], '*'),
      // Takes the node's lock; a stale one (its holder's deadline passed) is deleted, then retaken.
      allow(['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
    issueActivation: [
      // CreateActivation supports no resource-level permissions; its tags are authorized by
      // CreateActivation itself (condition keys aws:RequestTag and aws:TagKeys, no dependent
      // action: Service Authorization Reference, Systems Manager), so no AddTagsToResource. The
      // tag it must carry scopes it to this cluster.
      allow(['ssm:CreateActivation'], '*', forThisCluster),
      allow(['ssm:DescribeActivations'], '*'),
      // Undoes its own activation when the code cannot be stored.
      allow(['ssm:DeleteActivation'], '*'),
      allow(['iam:PassRole'], hybridRoleArn, { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } }),
      allow(['ssm:PutParameter'], activationCodes),
    ],
    // Reads the code, writes the NodeConfig: never the other way round.
    renderNodeConfig: [allow(['ssm:GetParameter'], activationCodes), allow(['ssm:PutParameter'], nodeConfigs)],
    checkRegistration: [allow(['ssm:DescribeInstanceInformation'], '*')],
    // Reads Nodes through the Kubernetes API: authorised by its EKS access entry, not by IAM.
    checkNode: [],
    // The GPU check reads the Node (hybridops-node-readers); the smoke test creates, reads and
    // deletes one pod in GPU_CHECK_NAMESPACE (hybridops-gpu-checkers): Kubernetes RBAC, not IAM.
    checkGpus: [],
    startSmokeTest: [],
    checkSmokeTest: [],
    finishOnboarding: [
      // Every activation tagged with the request, also one a lost answer left unrecorded.
      allow(['ssm:DeleteActivation', 'ssm:DescribeActivations'], '*'),
      allow(['ssm:DeleteParameters'], onboardingParameters),
      allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
    // DELETE /nodes/{node} looks the node up before it starts anything: its Node (through its EKS
    // access entry), its managed instance's tags, and who holds its lock.
    submitOffboarding: [
      allow(['states:StartExecution'], offboardMachine),
      allow(['states:DescribeExecution'], offboardExecutions),
      allow(['eks:DescribeCluster'], clusterArn),
      allow(['ssm:DescribeInstanceInformation'], '*'),
      allow(['ssm:ListTagsForResource'], managedInstances),
      allow(['ssm:GetParameter'], lockParameters),
    ],
    getOffboarding: [allow(['states:DescribeExecution', 'states:GetExecutionHistory'], offboardExecutions)],
    // Reads the Node through its EKS access entry (hybridops-node-readers).
    prepareOffboarding: [
      allow(['eks:DescribeCluster'], clusterArn),
      allow(['ssm:DescribeInstanceInformation'], '*'),
      allow(['ssm:ListTagsForResource'], managedInstances),
      // Takes the node's lock; a stale one (its holder's deadline passed) is deleted, then retaken.
      allow(['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
    // Deletes the Node through its EKS access entry (hybridops-node-operators), then what is left.
    removeNode: [
      allow(['ssm:ListTagsForResource'], managedInstances),
      allow(['ssm:DeregisterManagedInstance'], managedInstances, taggedWithThisCluster),
      allow(['ssm:DescribeActivations', 'ssm:DeleteActivation'], '*'),
      allow(['ssm:DeleteParameters'], onboardingParameters),
      allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
    // Reads the Node through its EKS access entry (hybridops-node-readers); changes nothing but the lock.
    cleanUpOffboarding: [
      allow(['ssm:ListTagsForResource'], managedInstances),
      allow(['ssm:DescribeActivations'], '*'),
      allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
    startReconcile: [allow(['states:StartExecution'], { Ref: 'ReconcileNetworkStateMachine' })],
    loadDesiredState: [allow(['ssm:GetParameter'], parameters('desired-state/network'))],
    planResolver: [
      ...clusterReads,
      allow(['route53resolver:ListResolverRules', 'route53resolver:ListResolverRuleAssociations'], '*'),
      allow(['route53resolver:ListTagsForResource'], resolverRules),
      allow(
        ['route53resolver:GetResolverEndpoint', 'route53resolver:ListResolverEndpointIpAddresses'],
        inboundEndpoints,
      ),
      allow(['s3:PutObject'], runObjects),
    ],
    planEfs: [
      ...clusterReads,
      allow(['ec2:DescribeSecurityGroupRules'], '*'),
      allow(['elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets'], fileSystems),
      allow(['s3:PutObject'], runObjects),
    ],
    applyNetworkPlan: [
      // Only what applying calls: the CreatorRequestId lookup, the associations and mount targets it
      // waits on, and the reads EFS and Resolver make on the caller's behalf.
      allow(
        [
          'route53resolver:ListResolverRules',
          'route53resolver:ListResolverRuleAssociations',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
        ],
        '*',
      ),
      allow(['elasticfilesystem:DescribeMountTargets'], fileSystems),
      // The plan it reads and the outcomes it writes; a chunk not written yet must answer NoSuchKey.
      allow(['s3:GetObject', 's3:PutObject'], runObjects),
      listBucket,
      // A rule is created only tagged as this stage's, with that tag alone: the tag is the only
      // way to change or delete it afterwards, and no other rule can be tagged so (no
      // TagResource). CreateResolverRule's only resource type is the rule (Service Authorization
      // Reference, Route 53 Resolver): the endpoint it forwards through is not authorized here.
      allow(['route53resolver:CreateResolverRule'], resolverRules, {
        StringLike: { 'aws:RequestTag/hybridops:managed-by': `eks-hybrid-ops/${stage}/*` },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['hybridops:managed-by'] },
        Null: { 'aws:RequestTag/hybridops:managed-by': 'false' },
      }),
      // Only rules this stage created (tagged) may be changed, or looked at while AWS updates them.
      allow(
        [
          'route53resolver:GetResolverRule',
          'route53resolver:UpdateResolverRule',
          'route53resolver:AssociateResolverRule',
          'route53resolver:DisassociateResolverRule',
          'route53resolver:DeleteResolverRule',
        ],
        resolverRules,
        { StringLike: { 'aws:ResourceTag/hybridops:managed-by': `eks-hybrid-ops/${stage}/*` } },
      ),
      allow(['elasticfilesystem:CreateMountTarget'], fileSystems),
      // EFS creates a mount target's network interface with the caller's permissions.
      allow(
        ['ec2:CreateNetworkInterface'],
        [arn('ec2', 'subnet/*'), arn('ec2', 'network-interface/*'), ...mountTargetGroups],
      ),
      allow(['ec2:DescribeNetworkInterfaces'], '*'),
      // Rules are added to and removed from the declared groups only. A rule added with tags is a
      // resource of its own; RevokeSecurityGroupIngress knows only the security-group type.
      allow(['ec2:AuthorizeSecurityGroupIngress'], [...mountTargetGroups, arn('ec2', 'security-group-rule/*')]),
      allow(['ec2:RevokeSecurityGroupIngress'], mountTargetGroups),
      allow(['ec2:CreateTags'], arn('ec2', 'security-group-rule/*'), {
        StringEquals: { 'ec2:CreateAction': 'AuthorizeSecurityGroupIngress' },
      }),
    ],
    publishMountTargets: [
      allow(['elasticfilesystem:DescribeMountTargets'], fileSystems),
      // The mount-target directory of each declared cluster with EFS (lib/network/reconcile.ts).
      allow(
        ['ssm:GetParameter', 'ssm:PutParameter'],
        orNothing(declared((c) => (c.efs ? [c.name] : [])).map((name) => parameters(`efs/${name}/mount-targets`))),
      ),
    ],
    checkResolution: [allow(['route53resolver:ListResolverEndpointIpAddresses'], inboundEndpoints), ...inVpc],
    reportNetwork: [allow(['s3:GetObject', 's3:PutObject'], runObjects), listBucket],
    reportNetworkFailure: [allow(['s3:GetObject'], runObjects), listBucket],
    sweepInventory: [
      allow(['ssm:GetParameter'], parameters('desired-state/network')),
      allow(['ssm:GetServiceSetting'], activationTierSetting),
      allow(['ssm:DescribeInstanceInformation', 'ssm:DescribeActivations'], '*'),
      allow(['eks:DescribeCluster', 'eks:ListInsights'], sweptClusters),
      allow(['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroupRules'], '*'),
      allow(['elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets'], fileSystems),
      allow(['s3:PutObject'], runObjects),
    ],
    // Cost Explorer has no resources to scope GetCostAndUsage, GetCostForecast or
    // GetDimensionValues to (Service Authorization Reference, list_awscostexplorerservice).
    sweepCost: [
      allow(['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetDimensionValues'], '*'),
      allow(['s3:GetObject', 's3:PutObject'], [runObjects, costNames]),
      listBucket,
    ],
    sweepCompliance: [allow(['s3:GetObject', 's3:PutObject'], runObjects), listBucket],
    probeBatch: [allow(['s3:GetObject', 's3:PutObject'], runObjects), listBucket, ...inVpc],
    checkSweepDns: [
      allow(['s3:GetObject', 's3:PutObject'], runObjects),
      listBucket,
      allow(['route53resolver:ListResolverEndpointIpAddresses'], inboundEndpoints),
      ...inVpc,
    ],
    mergeSweep: [allow(['s3:GetObject'], [runObjects, memory]), allow(['s3:PutObject'], runObjects), listBucket],
    publishSweepAlerts: [
      allow(['s3:GetObject', 's3:PutObject'], runObjects),
      listBucket,
      allow(['sns:Publish'], { Ref: 'AlertTopic' }),
    ],
    commitSweep: [allow(['s3:GetObject'], runObjects), allow(['s3:PutObject'], memory), listBucket],
    // Reads how far the night got: the alerts it sent, tonight's memory against the kept one.
    reportSweepFailure: [allow(['s3:GetObject'], [runObjects, memory]), listBucket],
    // The node lifecycle steps both lifecycle workflows run. Cordon, uncordon and drain act through
    // their EKS access entries (group hybridops-node-operators), not IAM; the cluster's endpoint and
    // CA come in their input, from the workflow's first step.
    cordonNode: [],
    uncordonNode: [],
    drainNode: [],
    runNodeCommand: [
      // SendCommand authorizes the document and each instance (both resource types): the document
      // has no tags, so the tag condition goes on the instances' statement only.
      allow(['ssm:SendCommand'], runShellScript),
      allow(['ssm:SendCommand'], managedInstances, taggedWithThisCluster),
      // Finds a command it already sent (a retried Task); list actions have no resource type.
      allow(['ssm:ListCommandInvocations'], '*'),
    ],
    // No resource type for either (Service Authorization Reference, Systems Manager).
    checkNodeCommand: [allow(['ssm:GetCommandInvocation', 'ssm:DescribeInstanceInformation'], '*')],
    // The rolling upgrade: the API, then its own steps (the node lifecycle's are their own).
    submitUpgrade: [
      allow(['states:StartExecution'], upgradeMachine),
      allow(['states:DescribeExecution'], upgradeExecutions),
      allow(['eks:DescribeCluster'], clusterArn),
    ],
    getUpgrade: [
      allow(['states:DescribeExecution'], upgradeExecutions),
      allow(['s3:GetObject'], upgradeObjects),
      listBucket,
    ],
    planUpgrade: [
      allow(['eks:DescribeCluster'], clusterArn),
      // Which instances are tagged for this cluster, and their agents' PingStatus.
      allow(['ssm:DescribeInstanceInformation'], '*'),
      // The name each node was onboarded under (its lock's name).
      allow(['ssm:ListTagsForResource'], managedInstances),
      allow(['s3:PutObject'], upgradeObjects),
    ],
    startNodeUpgrade: [allow(['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters)],
    // Reads the Node through the Kubernetes API: authorised by its EKS access entry, not by IAM.
    checkUpgradedNode: [],
    finishNodeUpgrade: [allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters)],
    failNodeUpgrade: [allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters)],
    recordUpgradeWave: [allow(['s3:PutObject'], upgradeObjects)],
    // Reads the plan and each wave's outcomes (a wave never recorded must answer NoSuchKey).
    reportUpgrade: [allow(['s3:GetObject', 's3:PutObject'], upgradeObjects), listBucket],
    cleanUpOnboarding: [
      allow(['ssm:DeleteActivation', 'ssm:DescribeActivations'], '*'),
      allow(['ssm:DescribeInstanceInformation'], '*'),
      allow(['ssm:ListTagsForResource'], managedInstances),
      allow(['ssm:DeregisterManagedInstance'], managedInstances, taggedWithThisCluster),
      allow(['ssm:DeleteParameters'], onboardingParameters),
      allow(['ssm:GetParameter', 'ssm:DeleteParameter'], lockParameters),
    ],
  };

  const Resources = {};
  for (const [key, statements] of Object.entries(table)) {
    const logicalId = `${key[0].toUpperCase()}${key.slice(1)}Role`;
    const logGroup = sub(
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${stage}-${key}:*`,
    );
    Resources[logicalId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `eks-hybrid-ops ${stage}: ${key}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: key,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                allow(['logs:CreateLogStream', 'logs:PutLogEvents'], logGroup),
                // Active tracing (serverless.yml provider.tracing.lambda).
                allow(XRAY_FUNCTION_ACTIONS, '*'),
                ...statements,
              ],
            },
          },
        ],
      },
    };
  }
  // EventBridge Scheduler starts the scheduled workflows with a role of its own per schedule; the
  // trust is limited to schedules of this account (aws:SourceAccount, as the Scheduler user
  // guide's execution role recommends against the confused deputy).
  for (const [machine, logicalId] of [
    ['ReconcileNetworkStateMachine', 'ReconcileNetworkScheduleRole'],
    ['NightlySweepStateMachine', 'NightlySweepScheduleRole'],
  ]) {
    Resources[logicalId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `eks-hybrid-ops ${stage}: the schedule that starts ${machine}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'start-execution',
            PolicyDocument: { Version: '2012-10-17', Statement: [allow(['states:StartExecution'], { Ref: machine })] },
          },
        ],
      },
    };
  }
  // The onboard-fleet state machine's own role (serverless.yml `role`): serverless-step-functions
  // would grant DescribeExecution and StopExecution on "*" for a StateMachineArn given as a Ref.
  // What the .sync:2 integration needs (Step Functions developer guide, "IAM policies for
  // AWS Step Functions nested workflows", https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html):
  // StartExecution on the child state machine, DescribeExecution and StopExecution on its
  // executions, and the EventBridge managed rule through which Step Functions learns the child ended.
  const fleetFunction = (logicalId) => [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, sub(`\${${logicalId}.Arn}:*`)];
  Resources.OnboardFleetStateMachineRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `eks-hybrid-ops ${stage}: the onboard-fleet state machine`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: sub('states.${AWS::Region}.amazonaws.com') },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'onboard-fleet',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow(
                ['lambda:InvokeFunction'],
                [...fleetFunction('PrepareMemberLambdaFunction'), ...fleetFunction('SummarizeFleetLambdaFunction')],
              ),
              allow(['states:StartExecution'], stateMachine),
              allow(['states:DescribeExecution', 'states:StopExecution'], executions),
              allow(
                ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
                sub(
                  'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
                ),
              ),
              allow(['sns:Publish'], { Ref: 'AlertTopic' }),
              // Its tracingConfig (serverless-step-functions adds these to the roles it makes).
              allow(XRAY_STATE_MACHINE_ACTIONS, '*'),
              // CloudWatch Logs delivery (loggingConfig) supports only Resource "*".
              allow(
                [
                  'logs:CreateLogDelivery',
                  'logs:GetLogDelivery',
                  'logs:UpdateLogDelivery',
                  'logs:DeleteLogDelivery',
                  'logs:ListLogDeliveries',
                  'logs:PutResourcePolicy',
                  'logs:DescribeResourcePolicies',
                  'logs:DescribeLogGroups',
                ],
                '*',
              ),
            ],
          },
        },
      ],
    },
  };
  return { Resources };
};

module.exports.UNSCOPED_ACTIONS = UNSCOPED_ACTIONS;
module.exports.XRAY_STATE_MACHINE_ACTIONS = XRAY_STATE_MACHINE_ACTIONS;
module.exports.XRAY_FUNCTION_ACTIONS = XRAY_FUNCTION_ACTIONS;
