import { randomBytes, randomUUID } from 'node:crypto';
import * as sdk from '@aws-sdk/client-ssm';
import {
  type CreateActivationCommandInput,
  type CreateActivationCommandOutput,
  type DeleteActivationCommandInput,
  type DeleteActivationCommandOutput,
  type DeleteParameterCommandInput,
  type DeleteParameterCommandOutput,
  type DeleteParametersCommandInput,
  type DeleteParametersCommandOutput,
  type DeregisterManagedInstanceCommandInput,
  type DeregisterManagedInstanceCommandOutput,
  DescribeActivationsFilterKeys,
  type DescribeActivationsCommandInput,
  type DescribeActivationsCommandOutput,
  type DescribeInstanceInformationCommandInput,
  type DescribeInstanceInformationCommandOutput,
  type GetParameterCommandInput,
  type GetParameterCommandOutput,
  type GetParametersCommandInput,
  type GetParametersCommandOutput,
  type GetServiceSettingCommandInput,
  type GetServiceSettingCommandOutput,
  InstanceInformationFilterKey,
  type InstanceInformationStringFilter,
  InvalidActivation,
  InvalidFilter,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidInstanceInformationFilterValue,
  InvalidNextToken,
  InvalidParameters,
  InvalidResourceId,
  type ListTagsForResourceCommandInput,
  type ListTagsForResourceCommandOutput,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterTier,
  PingStatus,
  PlatformType,
  type PutParameterCommandInput,
  type PutParameterCommandOutput,
  ResourceType,
  ServiceSettingNotFound,
  SourceType,
  ValidationException,
} from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { handOutNodeConfig } from '../on-prem';
import { constraintMessage, filteredPage, type PageRange, pageSizeOf } from '../paging';
import { type Answer, type SandboxService, type SdkExceptions, sdkError } from '../service';
import type { SandboxActivation, SandboxInstance, SandboxParameter } from '../state';
import { runCommandCommands } from './ssm-run-command';

const exceptions = { base: sdk.SSMServiceException, module: sdk } satisfies SdkExceptions;
/** The error ssm answers `name` with (see {@link sdkError}). */
const ssmError = (name: string, message: string) => sdkError(exceptions, name, message);

const meta = { $metadata: {} };
const MAX_EXPIRY_MS = 30 * 24 * 3600_000;

function arnOf(estate: SandboxEstate, name: string): string {
  return `arn:aws:ssm:${estate.seed.region}:${estate.seed.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

function getParameter(estate: SandboxEstate, name: string): SandboxParameter {
  const parameter = estate.state.parameters[name];
  if (!parameter) throw new ParameterNotFound({ ...meta, message: `Parameter ${name} not found.` });
  return parameter;
}

/**
 * Page sizes, from the SSM service model (botocore ssm/2014-11-06/service-2.json):
 * DescribeInstanceInformation takes MaxResults 5-50 (MaxResultsEC2Compatible) and gives 10 by
 * default; DescribeActivations takes 1-50 (its default is not documented: the sandbox gives 50).
 */
const PAGE_RANGES = {
  DescribeInstanceInformation: { member: 'maxResults', min: 5, max: 50, fallback: 10 },
  DescribeActivations: { member: 'maxResults', min: 1, max: 50, fallback: 50 },
} satisfies Record<string, PageRange>;

/** SSM's answer to a member outside the model (ValidationException; see lib/sandbox/paging.ts). */
const validation = (message: string) => new ValidationException({ ...meta, message });
const badToken = () => new InvalidNextToken({ ...meta, message: "The specified token isn't valid." });

/**
 * The values DescribeInstanceInformation accepts per filter key (the SSM service model's
 * InstanceInformationStringFilter: `undefined` where any value goes); `tag-key` and `tag:<key>`
 * take any value too.
 */
const INSTANCE_FILTER_VALUES: Record<string, readonly string[] | undefined> = {
  [InstanceInformationFilterKey.ACTIVATION_IDS]: undefined,
  [InstanceInformationFilterKey.AGENT_VERSION]: undefined,
  [InstanceInformationFilterKey.ASSOCIATION_STATUS]: ['Success', 'Pending', 'Failed'],
  [InstanceInformationFilterKey.IAM_ROLE]: undefined,
  [InstanceInformationFilterKey.INSTANCE_IDS]: undefined,
  [InstanceInformationFilterKey.PING_STATUS]: Object.values(PingStatus),
  [InstanceInformationFilterKey.PLATFORM_TYPES]: Object.values(PlatformType),
  [InstanceInformationFilterKey.RESOURCE_TYPE]: Object.values(ResourceType),
  SourceIds: undefined,
  SourceTypes: Object.values(SourceType),
};
const isTagKey = (key: string) => key === 'tag-key' || key.startsWith('tag:');

/** Refuses DescribeInstanceInformation filters as SSM does; see each rule's source. */
function checkInstanceFilters(filters: InstanceInformationStringFilter[]): void {
  filters.forEach((f, n) => {
    const key = f.Key ?? '';
    const values = f.Values ?? [];
    // Key: min length 1; Values: 1 to 100 (InstanceInformationStringFilterKey and
    // InstanceInformationFilterValueSet in the SSM service model).
    if (key.length < 1)
      throw validation(constraintMessage(`filters.${n + 1}.member.key`, key, 'have length greater than or equal to 1'));
    if (values.length < 1 || values.length > 100) {
      const bound = values.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 100';
      throw validation(constraintMessage(`filters.${n + 1}.member.values`, values, `have length ${bound}`));
    }
    if (!isTagKey(key) && !(key in INSTANCE_FILTER_VALUES)) {
      throw new InvalidFilterKey({ ...meta, message: `The specified key isn't valid: ${key}.` });
    }
    const allowed = INSTANCE_FILTER_VALUES[key];
    const wrong = allowed && values.find((v) => !allowed.includes(v));
    if (wrong) {
      throw new InvalidInstanceInformationFilterValue({
        ...meta,
        message: `The specified filter value isn't valid: ${key} ${wrong}; valid: ${allowed.join(', ')}.`,
      });
    }
    // SSM: "ResourceType filter may contain only one value." (boto/boto3#3027).
    if (key === InstanceInformationFilterKey.RESOURCE_TYPE && values.length > 1) {
      throw new InvalidInstanceInformationFilterValue({
        ...meta,
        message: 'ResourceType filter may contain only one value.',
      });
    }
  });
  // "Tag filters can't be combined with other filter types" (the model's Filters doc); SSM answers
  // "ValidationException: Cannot mix tag or inventory filter with any other filter." (danmx/sigil#61).
  if (filters.some((f) => isTagKey(f.Key ?? '')) && filters.some((f) => !isTagKey(f.Key ?? ''))) {
    throw validation('Cannot mix tag or inventory filter with any other filter.');
  }
}

/**
 * When the instance's agent last reached SSM: for one online, its last heartbeat (the agent
 * reports every 5 minutes, REFERENCE.md section 7); for one that lost its connection, then.
 */
function lastPing(i: SandboxInstance, now: Date): Date {
  if (i.pingStatus === PingStatus.CONNECTION_LOST) return new Date(i.lastPingAt ?? i.registrationDate);
  const since = now.getTime() - Date.parse(i.registrationDate);
  return new Date(Date.parse(i.registrationDate) + Math.max(0, Math.floor(since / 300_000)) * 300_000);
}

/** What the seed declares for SSM: activations issued before it starts, and the roles one may name. */
const ssmSeed = {
  /** Activations that exist from the start (hours relative to seeding; negative: already expired). */
  activations: z
    .array(
      z.object({
        id: z.string(),
        cluster: z.string(),
        defaultInstanceName: z.string(),
        expiresInHours: z.number(),
        registrationsCount: z.number().int().min(0).default(0),
        registrationLimit: z.number().int().min(1).default(1),
      }),
    )
    .default([]),
  /** The IAM roles that exist (by name): CreateActivation refuses any other. */
  iamRoles: z.array(z.string()),
  /**
   * The account's `/ssm/managed-instance/activation-tier` service setting: `standard` (AWS's
   * default: at most 1,000 on-prem managed instances per account and Region) or `advanced`.
   */
  activationTier: z.enum(['standard', 'advanced']).default('standard'),
};

/**
 * The service settings SSM documents for GetServiceSetting (the SDK model's
 * GetServiceSettingRequest.SettingId); the sandbox holds only the activation tier.
 */
const SERVICE_SETTINGS = [
  '/ssm/appmanager/appmanager-enabled',
  '/ssm/automation/customer-script-log-destination',
  '/ssm/automation/customer-script-log-group-name',
  '/ssm/automation/enable-adaptive-concurrency',
  '/ssm/documents/console/public-sharing-permission',
  '/ssm/managed-instance/activation-tier',
  '/ssm/managed-instance/default-ec2-instance-management-role',
  '/ssm/opsinsights/opscenter',
  '/ssm/parameter-store/default-parameter-tier',
  '/ssm/parameter-store/high-throughput-enabled',
];

export const ssmCommands = {
  PutParameter(estate: SandboxEstate, input: PutParameterCommandInput): Answer<PutParameterCommandOutput> {
    const name = input.Name ?? '';
    const existing = estate.state.parameters[name];
    if (existing && input.Overwrite !== true) {
      throw new ParameterAlreadyExists({
        ...meta,
        message:
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      });
    }
    const value = input.Value ?? '';
    const tier = input.Tier || ParameterTier.STANDARD;
    if (Buffer.byteLength(value) > (tier === 'Advanced' ? 8192 : 4096)) {
      throw ssmError(
        'ValidationException',
        `${tier} tier parameters support values of at most ${tier === 'Advanced' ? 8192 : 4096} bytes.`,
      );
    }
    const version = (existing?.version ?? 0) + 1;
    estate.state.parameters[name] = {
      name,
      type: input.Type || existing?.type || 'String',
      value,
      version,
      tier,
      description: input.Description || existing?.description,
      lastModified: estate.clock.now().toISOString(),
    };
    return { Version: version, Tier: tier };
  },

  GetParameter(estate: SandboxEstate, input: GetParameterCommandInput): Answer<GetParameterCommandOutput> {
    const p = getParameter(estate, input.Name ?? '');
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

  /**
   * The account's service settings (SSM API reference, GetServiceSetting): the activation tier,
   * from the seed. Its ARN is `arn:aws:ssm:<region>:<account>:servicesetting/<id>` (the form
   * UpdateServiceSetting takes); Status is `Default` for AWS's value, `Customized` once changed
   * (the model's ServiceSetting.Status). An id SSM does not know is ServiceSettingNotFound, the
   * operation's one modelled client error.
   */
  GetServiceSetting(
    estate: SandboxEstate,
    input: GetServiceSettingCommandInput,
  ): Answer<GetServiceSettingCommandOutput> {
    const id = input.SettingId ?? '';
    if (!SERVICE_SETTINGS.includes(id)) {
      throw new ServiceSettingNotFound({ ...meta, message: `The service setting ${id} was not found.` });
    }
    if (id !== '/ssm/managed-instance/activation-tier') {
      throw new SandboxNotImplementedError(
        `The sandbox holds only the activation tier of the SSM service settings, not ${id}.`,
        'Add it to lib/sandbox/services/ssm.ts, or run with --estate aws.',
      );
    }
    const tier = estate.seed.activationTier;
    return {
      ServiceSetting: {
        SettingId: id,
        SettingValue: tier,
        ARN: `arn:aws:ssm:${estate.seed.region}:${estate.seed.account}:servicesetting${id}`,
        LastModifiedDate: new Date(estate.clock.now().getTime() - 30 * 24 * 3600_000),
        Status: tier === 'standard' ? 'Default' : 'Customized',
      },
    };
  },

  /**
   * GetParameters: 1-10 names (SSM API reference, GetParameters, "Array Members: Minimum number of
   * 1 item. Maximum number of 10 items."); the ones found in Parameters, in alphabetical order, the
   * others in InvalidParameters. A decrypted NodeConfig is handed out as GetParameter's is.
   */
  GetParameters(estate: SandboxEstate, input: GetParametersCommandInput): Answer<GetParametersCommandOutput> {
    const names = input.Names ?? [];
    if (names.length < 1 || names.length > 10) {
      const constraint =
        names.length < 1 ? 'have length greater than or equal to 1' : 'have length less than or equal to 10';
      throw ssmError('ValidationException', constraintMessage('names', names, constraint));
    }
    const found = [...new Set(names)].filter((n) => estate.state.parameters[n]).sort();
    const decrypt = input.WithDecryption === true;
    return {
      Parameters: found.map((name) => {
        const p = getParameter(estate, name);
        if (decrypt && p.name.endsWith('/node-config')) handOutNodeConfig(estate, p.value);
        return {
          Name: p.name,
          Type: p.type,
          Value: p.type === 'SecureString' && !decrypt ? `AQICAH-sandbox-ciphertext-${p.version}` : p.value,
          Version: p.version,
          LastModifiedDate: new Date(p.lastModified),
          ARN: arnOf(estate, p.name),
          DataType: 'text',
        };
      }),
      InvalidParameters: [...new Set(names)].filter((n) => !estate.state.parameters[n]),
    };
  },

  DeleteParameter(estate: SandboxEstate, input: DeleteParameterCommandInput): Answer<DeleteParameterCommandOutput> {
    const name = input.Name ?? '';
    getParameter(estate, name);
    delete estate.state.parameters[name];
    return {};
  },

  DeleteParameters(estate: SandboxEstate, input: DeleteParametersCommandInput): Answer<DeleteParametersCommandOutput> {
    const names = input.Names ?? [];
    if (names.length < 1 || names.length > 10)
      throw new InvalidParameters({ ...meta, message: 'Names: 1 to 10 names' });
    const deleted = names.filter((n) => estate.state.parameters[n]);
    for (const n of deleted) delete estate.state.parameters[n];
    return { DeletedParameters: deleted, InvalidParameters: names.filter((n) => !deleted.includes(n)) };
  },

  CreateActivation(estate: SandboxEstate, input: CreateActivationCommandInput): Answer<CreateActivationCommandOutput> {
    const role = input.IamRole ?? '';
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
      defaultInstanceName: input.DefaultInstanceName || undefined,
      description: input.Description || undefined,
      tags: (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    };
    return { ActivationId: id, ActivationCode: code };
  },

  DeleteActivation(estate: SandboxEstate, input: DeleteActivationCommandInput): Answer<DeleteActivationCommandOutput> {
    const id = input.ActivationId ?? '';
    if (!estate.state.activations[id])
      throw new InvalidActivation({ ...meta, message: `Activation ID ${id} is not valid.` });
    delete estate.state.activations[id];
    return {};
  },

  DescribeActivations(
    estate: SandboxEstate,
    input: DescribeActivationsCommandInput,
  ): Answer<DescribeActivationsCommandOutput> {
    const now = estate.clock.now();
    const filters = input.Filters ?? [];
    // FilterKey is an enum of three (DescribeActivationsFilterKeys); SSM answers InvalidFilter for
    // another (the operation's error list in the SSM service model).
    const keys: readonly string[] = Object.values(DescribeActivationsFilterKeys);
    const unknown = filters.find((f) => !keys.includes(f.FilterKey ?? ''));
    if (unknown) {
      throw new InvalidFilter({ ...meta, message: `The filter name isn't valid: ${String(unknown.FilterKey)}.` });
    }
    const size = pageSizeOf(input.MaxResults, PAGE_RANGES.DescribeActivations, validation);
    const valueOf = (a: SandboxActivation, key: DescribeActivationsFilterKeys | undefined) => {
      const values: Record<DescribeActivationsFilterKeys, string | undefined> = {
        ActivationIds: a.id,
        DefaultInstanceName: a.defaultInstanceName,
        IamRole: a.iamRole,
      };
      return key && values[key];
    };
    const { page, next } = filteredPage(
      Object.values(estate.state.activations),
      (a) => filters.every((f) => (f.FilterValues ?? []).includes(valueOf(a, f.FilterKey) ?? '')),
      { token: input.NextToken, size, badToken },
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

  DescribeInstanceInformation(
    estate: SandboxEstate,
    input: DescribeInstanceInformationCommandInput,
  ): Answer<DescribeInstanceInformationCommandOutput> {
    if (input.InstanceInformationFilterList !== undefined) {
      throw new SandboxNotImplementedError(
        'The sandbox does not implement the legacy InstanceInformationFilterList of ssm:DescribeInstanceInformation.',
        'Use Filters (AWS recommends it over the legacy list).',
      );
    }
    const filters = input.Filters ?? [];
    checkInstanceFilters(filters);
    const size = pageSizeOf(input.MaxResults, PAGE_RANGES.DescribeInstanceInformation, validation);
    // Filters AND; a filter's values OR.
    const test = (f: InstanceInformationStringFilter, i: SandboxInstance) => {
      const key = f.Key ?? '';
      const values = f.Values ?? [];
      if (key === InstanceInformationFilterKey.ACTIVATION_IDS) return values.includes(i.activationId);
      if (key === InstanceInformationFilterKey.INSTANCE_IDS) return values.includes(i.instanceId);
      if (key === InstanceInformationFilterKey.RESOURCE_TYPE) return values.includes(ResourceType.MANAGED_INSTANCE);
      if (key === InstanceInformationFilterKey.PING_STATUS) return values.includes(i.pingStatus ?? PingStatus.ONLINE);
      if (key === 'tag-key') return i.tags.some((t) => values.includes(t.Key));
      if (key.startsWith('tag:')) return i.tags.some((t) => t.Key === key.slice(4) && values.includes(t.Value));
      // A key SSM knows and the sandbox does not filter by: a gap to fill, not to ignore.
      throw new SandboxNotImplementedError(
        `The sandbox does not filter ssm:DescribeInstanceInformation by ${key}.`,
        'Add it to lib/sandbox/services/ssm.ts, or run with --estate aws.',
      );
    };
    const { page, next } = filteredPage(
      Object.values(estate.state.instances),
      (i) => filters.every((f) => test(f, i)),
      { token: input.NextToken, size, badToken },
    );
    return {
      NextToken: next,
      InstanceInformationList: page.map((i) => ({
        InstanceId: i.instanceId,
        ActivationId: i.activationId,
        Name: i.name,
        IPAddress: i.ipAddress,
        PlatformName: i.platformName,
        PlatformVersion: i.platformVersion,
        PlatformType: PlatformType.LINUX,
        ResourceType: ResourceType.MANAGED_INSTANCE,
        RegistrationDate: new Date(i.registrationDate),
        PingStatus: i.pingStatus ?? PingStatus.ONLINE,
        LastPingDateTime: lastPing(i, estate.clock.now()),
        IamRole: estate.state.activations[i.activationId]?.iamRole,
      })),
    };
  },

  ListTagsForResource(
    estate: SandboxEstate,
    input: ListTagsForResourceCommandInput,
  ): Answer<ListTagsForResourceCommandOutput> {
    const instance = estate.state.instances[input.ResourceId ?? ''];
    if (!instance) throw new InvalidResourceId({ ...meta, message: 'The resource ID is not valid.' });
    return { TagList: instance.tags };
  },

  DeregisterManagedInstance(
    estate: SandboxEstate,
    input: DeregisterManagedInstanceCommandInput,
  ): Answer<DeregisterManagedInstanceCommandOutput> {
    const id = input.InstanceId ?? '';
    const instance = estate.state.instances[id];
    if (!instance) throw new InvalidInstanceId({ ...meta, message: `Instance ${id} is not registered.` });
    estate.deregistered.push({ instanceId: id, tags: instance.tags });
    delete estate.state.instances[id];
    return {};
  },
};

/**
 * SSM: parameters, hybrid activations, the managed instances that register with them, and Run
 * Command on those instances (./ssm-run-command.ts).
 */
export const ssmService = {
  name: 'ssm',
  source: __filename,
  exceptions,
  commands: { ...ssmCommands, ...runCommandCommands },
  seed: ssmSeed,
} satisfies SandboxService<typeof ssmSeed>;
