import { randomBytes, randomUUID } from 'node:crypto';
import {
  InvalidActivation,
  InvalidFilter,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidParameters,
  InvalidResourceId,
  ParameterAlreadyExists,
  ParameterNotFound,
  ValidationException,
  type Tag,
} from '@aws-sdk/client-ssm';
import { awsError, paginate, type SandboxEstate, type ServiceHandlers } from '../estate';
import { handOutNodeConfig } from '../on-prem';
import type { SandboxParameter } from '../state';

const meta = { $metadata: {} };
const MAX_EXPIRY_MS = 30 * 24 * 3600_000;

type Input = Record<string, unknown>;
const str = (input: Input, key: string) => (typeof input[key] === 'string' ? (input[key] as string) : '');

function arnOf(estate: SandboxEstate, name: string): string {
  return `arn:aws:ssm:${estate.seed.region}:${estate.seed.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

function getParameter(estate: SandboxEstate, name: string): SandboxParameter {
  const parameter = estate.state.parameters[name];
  if (!parameter) throw new ParameterNotFound({ ...meta, message: `Parameter ${name} not found.` });
  return parameter;
}

/** SSM: parameters, hybrid activations and the managed instances that register with them. */
export const ssmHandlers: ServiceHandlers = {
  PutParameter(estate, input) {
    const name = str(input, 'Name');
    const existing = estate.state.parameters[name];
    if (existing && input.Overwrite !== true) {
      throw new ParameterAlreadyExists({
        ...meta,
        message:
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      });
    }
    const value = str(input, 'Value');
    const tier = str(input, 'Tier') || 'Standard';
    if (Buffer.byteLength(value) > (tier === 'Advanced' ? 8192 : 4096)) {
      throw awsError(
        'ssm',
        'ValidationException',
        `${tier} tier parameters support values of at most ${tier === 'Advanced' ? 8192 : 4096} bytes.`,
      );
    }
    const version = (existing?.version ?? 0) + 1;
    estate.state.parameters[name] = {
      name,
      type: (str(input, 'Type') || existing?.type || 'String') as SandboxParameter['type'],
      value,
      version,
      tier,
      description: str(input, 'Description') || existing?.description,
      lastModified: estate.clock.now().toISOString(),
    };
    return { Version: version, Tier: tier };
  },

  GetParameter(estate, input) {
    const p = getParameter(estate, str(input, 'Name'));
    const decrypt = input.WithDecryption === true;
    if (decrypt && p.name.endsWith('/node-config')) handOutNodeConfig(estate, p.value);
    const value = p.type === 'SecureString' && !decrypt ? `AQICAH-sandbox-ciphertext-${p.version}` : p.value;
    return {
      Parameter: {
        Name: p.name,
        Type: p.type,
        Value: value,
        Version: p.version,
        LastModifiedDate: new Date(p.lastModified),
        ARN: arnOf(estate, p.name),
        DataType: 'text',
      },
    };
  },

  DeleteParameter(estate, input) {
    getParameter(estate, str(input, 'Name'));
    delete estate.state.parameters[str(input, 'Name')];
    return {};
  },

  DeleteParameters(estate, input) {
    const names = (input.Names as string[]) ?? [];
    if (names.length < 1 || names.length > 10)
      throw new InvalidParameters({ ...meta, message: 'Names: 1 to 10 names' });
    const deleted = names.filter((n) => estate.state.parameters[n]);
    for (const n of deleted) delete estate.state.parameters[n];
    return { DeletedParameters: deleted, InvalidParameters: names.filter((n) => !deleted.includes(n)) };
  },

  CreateActivation(estate, input) {
    const role = str(input, 'IamRole');
    const bareRole = role.split('/').pop() ?? role;
    if (role.startsWith('arn:') || !estate.seed.iamRoles.includes(bareRole)) {
      throw new ValidationException({
        ...meta,
        message: `Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::${estate.seed.account}:role/${role}`,
      });
    }
    const limit = typeof input.RegistrationLimit === 'number' ? input.RegistrationLimit : 1;
    if (limit < 1 || limit > 1000)
      throw new InvalidParameters({ ...meta, message: 'RegistrationLimit must be 1-1000' });
    const now = estate.clock.now();
    const expiry =
      input.ExpirationDate instanceof Date ? input.ExpirationDate : new Date(now.getTime() + 24 * 3600_000);
    if (expiry.getTime() - now.getTime() > MAX_EXPIRY_MS + 60_000 || expiry <= now) {
      throw new InvalidParameters({
        ...meta,
        message: 'ExpirationDate must be in the future and at most 30 days ahead.',
      });
    }
    const id = randomUUID();
    const code = randomBytes(15).toString('base64url');
    estate.state.activations[id] = {
      id,
      code,
      iamRole: role,
      registrationLimit: limit,
      registrationsCount: 0,
      expirationDate: expiry.toISOString(),
      createdDate: now.toISOString(),
      defaultInstanceName: str(input, 'DefaultInstanceName') || undefined,
      description: str(input, 'Description') || undefined,
      tags: ((input.Tags as Tag[]) ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    };
    return { ActivationId: id, ActivationCode: code };
  },

  DeleteActivation(estate, input) {
    const id = str(input, 'ActivationId');
    if (!estate.state.activations[id])
      throw new InvalidActivation({ ...meta, message: `Activation ID ${id} is not valid.` });
    delete estate.state.activations[id];
    return {};
  },

  DescribeActivations(estate, input) {
    const now = estate.clock.now();
    const filters = (input.Filters as Array<{ FilterKey?: string; FilterValues?: string[] }>) ?? [];
    const matches = (a: { id: string; defaultInstanceName?: string; iamRole: string }) =>
      filters.every((f) => {
        const value = { ActivationIds: a.id, DefaultInstanceName: a.defaultInstanceName, IamRole: a.iamRole }[
          f.FilterKey as 'ActivationIds' | 'DefaultInstanceName' | 'IamRole'
        ];
        if (f.FilterKey && !['ActivationIds', 'DefaultInstanceName', 'IamRole'].includes(f.FilterKey)) {
          throw new InvalidFilter({ ...meta, message: `Filter key ${f.FilterKey} is not valid.` });
        }
        return value !== undefined && (f.FilterValues ?? []).includes(value);
      });
    const { page, next } = paginate(
      Object.values(estate.state.activations).filter(matches),
      input.NextToken,
      input.MaxResults,
      50,
    );
    return {
      NextToken: next,
      ActivationList: page.map((a) => ({
        ActivationId: a.id,
        Description: a.description,
        DefaultInstanceName: a.defaultInstanceName,
        IamRole: a.iamRole,
        RegistrationLimit: a.registrationLimit,
        RegistrationsCount: a.registrationsCount,
        ExpirationDate: new Date(a.expirationDate),
        Expired: new Date(a.expirationDate) <= now,
        CreatedDate: new Date(a.createdDate),
        Tags: a.tags,
      })),
    };
  },

  DescribeInstanceInformation(estate, input) {
    const filters = (input.Filters as Array<{ Key?: string; Values?: string[] }>) ?? [];
    // The keys the project filters by; any other is a gap to fill, not to ignore. Filters AND.
    const test = (key: string, values: string[], i: (typeof estate.state.instances)[string]) => {
      if (key === 'ActivationIds') return values.includes(i.activationId);
      if (key === 'ResourceType') return values.includes('ManagedInstance');
      if (key === 'PingStatus') return values.includes(i.pingStatus ?? 'Online');
      if (key === 'tag-key') return i.tags.some((t) => values.includes(t.Key));
      if (key.startsWith('tag:')) return i.tags.some((t) => t.Key === key.slice(4) && values.includes(t.Value));
      throw new InvalidFilterKey({ ...meta, message: `The sandbox does not filter by ${key}.` });
    };
    const list = Object.values(estate.state.instances).filter((i) =>
      filters.every((f) => test(f.Key ?? '', f.Values ?? [], i)),
    );
    const { page, next } = paginate(list, input.NextToken, input.MaxResults, 50);
    return {
      NextToken: next,
      InstanceInformationList: page.map((i) => ({
        InstanceId: i.instanceId,
        ActivationId: i.activationId,
        Name: i.name,
        IPAddress: i.ipAddress,
        PlatformName: i.platformName,
        PlatformVersion: i.platformVersion,
        PlatformType: 'Linux',
        ResourceType: 'ManagedInstance',
        RegistrationDate: new Date(i.registrationDate),
        PingStatus: i.pingStatus ?? 'Online',
        IamRole: estate.state.activations[i.activationId]?.iamRole,
      })),
    };
  },

  ListTagsForResource(estate, input) {
    const instance = estate.state.instances[str(input, 'ResourceId')];
    if (!instance) throw new InvalidResourceId({ ...meta, message: 'The resource ID is not valid.' });
    return { TagList: instance.tags };
  },

  DeregisterManagedInstance(estate, input) {
    const id = str(input, 'InstanceId');
    const instance = estate.state.instances[id];
    if (!instance) throw new InvalidInstanceId({ ...meta, message: `Instance ${id} is not registered.` });
    estate.deregistered.push({ instanceId: id, tags: instance.tags });
    delete estate.state.instances[id];
    return {};
  },
};
