import type { Any, Template } from '#test/helpers/package-stack';

/**
 * The packaged template's IAM, resolved for one account and region: every intrinsic function in
 * the roles' policies replaced by the value CloudFormation would give it, so a policy simulator
 * can evaluate the policies as IAM will.
 */

export interface StackAccount {
  account: string;
  region: string;
  partition: 'aws';
  /** Physical names of resources whose name CloudFormation would generate (the store bucket). */
  names: Record<string, string>;
}

export interface ResolvedRole {
  logicalId: string;
  arn: string;
  /** The inline policies, resolved. */
  policies: Array<{ name: string; policy: Any }>;
  trust: Any;
}

/** What `Ref` and `Fn::GetAtt ... Arn` give for each resource type the template's policies name. */
function physical(template: Template, at: StackAccount, logicalId: string): { ref: string; arn: string } {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`The template has no resource ${logicalId}.`);
  const p = resource.Properties ?? {};
  const { partition, region, account } = at;
  const named = (key: string) => {
    const name = at.names[logicalId] ?? p[key];
    if (typeof name !== 'string') throw new Error(`${logicalId} has no ${key}; give its physical name.`);
    return name;
  };
  switch (resource.Type) {
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName');
      return { ref: name, arn: `arn:${partition}:lambda:${region}:${account}:function:${name}` };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const arn = `arn:${partition}:states:${region}:${account}:stateMachine:${named('StateMachineName')}`;
      return { ref: arn, arn };
    }
    case 'AWS::SNS::Topic': {
      const arn = `arn:${partition}:sns:${region}:${account}:${named('TopicName')}`;
      return { ref: arn, arn };
    }
    case 'AWS::S3::Bucket': {
      const name = named('BucketName');
      return { ref: name, arn: `arn:${partition}:s3:::${name}` };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName');
      return { ref: name, arn: `arn:${partition}:logs:${region}:${account}:log-group:${name}:*` };
    }
    case 'AWS::IAM::Role': {
      const name = at.names[logicalId] ?? p.RoleName ?? logicalId;
      return { ref: name, arn: `arn:${partition}:iam::${account}:role/${p.Path ?? '/'}${name}`.replace('//', '/') };
    }
    default:
      throw new Error(`No physical name rule for ${logicalId} (${resource.Type}); add one to test/infra/iam/stack.ts.`);
  }
}

/** Resolves Ref, Fn::GetAtt (Arn), Fn::Sub, Fn::Join and the pseudo parameters in `value`. */
export function resolve(template: Template, at: StackAccount, value: unknown): Any {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': at.account,
    'AWS::Region': at.region,
    'AWS::Partition': at.partition,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const ref = (name: string): string => pseudo[name] ?? physical(template, at, name).ref;
  const getAtt = (path: string): string => {
    const [id, attribute] = path.split('.') as [string, string];
    if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${path}: only Arn is resolved here.`);
    return physical(template, at, id).arn;
  };
  const sub = (text: string, vars: Record<string, unknown>): string =>
    text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      if (name in vars) return String(walk(vars[name]));
      return name.includes('.') && !name.startsWith('AWS::') ? getAtt(name) : ref(name);
    });
  const walk = (v: unknown): Any => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, Any>;
    if ('Ref' in o) return ref(o.Ref);
    if ('Fn::GetAtt' in o) return getAtt([o['Fn::GetAtt']].flat().join('.'));
    if ('Fn::Sub' in o) {
      const [text, vars] = Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'] : [o['Fn::Sub'], {}];
      return sub(text, vars);
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'];
      return (walk(parts) as string[]).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  return walk(value);
}

/** Every IAM role of the template, its policies and trust resolved. */
export function resolvedRoles(template: Template, at: StackAccount): Map<string, ResolvedRole> {
  const roles = new Map<string, ResolvedRole>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const p = resolve(template, at, resource.Properties);
    roles.set(logicalId, {
      logicalId,
      arn: physical(template, at, logicalId).arn,
      policies: (p.Policies ?? []).map((x: Any) => ({ name: x.PolicyName, policy: x.PolicyDocument })),
      trust: p.AssumeRolePolicyDocument,
    });
  }
  return roles;
}

/** The role a function runs as (its `Role` property), by the function's serverless.yml key. */
export function functionRoles(template: Template): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const role = resource.Properties.Role?.['Fn::GetAtt']?.[0] as string | undefined;
    if (!role) throw new Error(`${logicalId} has no role of its own.`);
    const key = logicalId.replace(/LambdaFunction$/, '');
    byKey.set(`${key[0]?.toLowerCase()}${key.slice(1)}`, role);
  }
  return byKey;
}
