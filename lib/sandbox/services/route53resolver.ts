import * as sdk from '@aws-sdk/client-route53resolver';
import {
  type AssociateResolverRuleCommandInput,
  type AssociateResolverRuleCommandOutput,
  type CreateResolverRuleCommandInput,
  type CreateResolverRuleCommandOutput,
  type DeleteResolverRuleCommandInput,
  type DeleteResolverRuleCommandOutput,
  type DisassociateResolverRuleCommandInput,
  type DisassociateResolverRuleCommandOutput,
  type Filter,
  type GetResolverEndpointCommandInput,
  type GetResolverEndpointCommandOutput,
  type GetResolverRuleCommandInput,
  type GetResolverRuleCommandOutput,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  type ListResolverEndpointIpAddressesCommandInput,
  type ListResolverEndpointIpAddressesCommandOutput,
  type ListResolverRuleAssociationsCommandInput,
  type ListResolverRuleAssociationsCommandOutput,
  type ListResolverRulesCommandInput,
  type ListResolverRulesCommandOutput,
  type ListTagsForResourceCommandInput,
  type ListTagsForResourceCommandOutput,
  type ResolverRule,
  type ResolverRuleAssociation,
  ResourceExistsException,
  ResourceInUseException,
  ResolverRuleAssociationStatus,
  ResolverRuleStatus,
  ResourceNotFoundException,
  RuleTypeOption,
  ShareStatus,
  type TargetAddress,
  type UpdateResolverRuleCommandInput,
  type UpdateResolverRuleCommandOutput,
  ValidationException,
} from '@aws-sdk/client-route53resolver';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { filteredPage, type PageRange, pageSizeOf } from '../paging';
import type { NetworkSeed } from '../seed';
import type { Answer, SandboxService } from '../service';

const meta = { $metadata: {} };
type Rule = NetworkSeed['resolverRules'][number];

const arnOf = (estate: SandboxEstate, id: string) =>
  `arn:aws:route53resolver:${estate.seed.region}:${estate.seed.account}:resolver-rule/${id}`;
const withDot = (domain: string) => (domain.endsWith('.') ? domain : `${domain}.`);
const bare = (domain: string) => domain.toLowerCase().replace(/\.$/, '');

function rule(estate: SandboxEstate, id: unknown): Rule {
  const found = estate.state.network.resolverRules.find((r) => r.id === id);
  if (!found)
    throw new ResourceNotFoundException({
      ...meta,
      message: `[RSLVR-00703] Resolver rule with ID "${String(id)}" does not exist.`,
    });
  return found;
}

function endpoint(estate: SandboxEstate, id: unknown) {
  const found = estate.state.network.resolverEndpoints.find((x) => x.id === id);
  if (!found) {
    throw new ResourceNotFoundException({
      ...meta,
      message: `[RSLVR-00101] Resolver endpoint ${String(id)} does not exist.`,
    });
  }
  return found;
}

const toAwsRule = (estate: SandboxEstate, r: Rule): ResolverRule => ({
  Id: r.id,
  Arn: arnOf(estate, r.id),
  Name: r.name,
  DomainName: withDot(r.domain),
  RuleType: r.ruleType,
  ResolverEndpointId: r.endpointId,
  TargetIps: r.targets.map((t) => ({ Ip: t.ip, Port: t.port })),
  CreatorRequestId: r.creatorRequestId,
  OwnerId: estate.seed.account,
  ShareStatus: ShareStatus.NotShared,
  Status:
    r.updatingUntil && r.updatingUntil > estate.clock.now().toISOString()
      ? ResolverRuleStatus.Updating
      : ResolverRuleStatus.Complete,
});

/**
 * A rule's associations as AWS has them now: a CREATING one becomes COMPLETE, a DELETING one goes
 * away, once its time has come (seed `network.delays`). Updates the rule as it finds them.
 */
export function associationsOf(
  estate: SandboxEstate,
  r: Rule,
): Array<{ vpc: string; status: ResolverRuleAssociationStatus }> {
  const now = estate.clock.now().toISOString();
  for (const [vpc, change] of Object.entries(r.changing ?? {})) {
    if (change.until > now) continue;
    if (change.status === 'DELETING') r.vpcs = r.vpcs.filter((v) => v !== vpc);
    delete r.changing?.[vpc];
  }
  return r.vpcs.map((vpc) => ({ vpc, status: r.changing?.[vpc]?.status ?? ResolverRuleAssociationStatus.Complete }));
}

function changeAssociation(estate: SandboxEstate, r: Rule, vpc: string, status: 'CREATING' | 'DELETING') {
  const { associateSeconds, disassociateSeconds } = estate.state.network.delays;
  const seconds = status === 'CREATING' ? associateSeconds : disassociateSeconds;
  if (seconds <= 0) {
    if (status === 'DELETING') r.vpcs = r.vpcs.filter((v) => v !== vpc);
    return;
  }
  r.changing = {
    ...r.changing,
    [vpc]: { status, until: new Date(estate.clock.now().getTime() + seconds * 1000).toISOString() },
  };
}

const associationId = (r: Rule, vpc: string) => `rslvr-rrassoc-${r.id.slice(9)}${vpc.slice(4, 8)}`;

/**
 * A forwarding rule's targets as the network state keeps them: IPv4 addresses, port 53 unless
 * given (TargetAddress in the SDK model). The sandbox does not forward to IPv6 targets.
 */
function targetsOf(targets: TargetAddress[]): Rule['targets'] {
  return targets.map((t) => {
    if (t.Ip === undefined) {
      throw new SandboxNotImplementedError(
        'The sandbox forwards Resolver rules to IPv4 targets (TargetAddress.Ip) only.',
        'Give each target its Ip, or add IPv6 to lib/sandbox/services/route53resolver.ts.',
      );
    }
    return { ip: t.Ip, port: t.Port ?? 53 };
  });
}

/** Resolver's List* MaxResults: 1-100, 100 when not given (Route 53 Resolver service model and API reference). */
const LIST_PAGE: PageRange = { member: 'maxResults', min: 1, max: 100, fallback: 100 };
/** A MaxResults outside the model: ValidationException, "1 validation error detected: ..." (as moto's Resolver mock answers it). */
const validation = (message: string) => new ValidationException({ ...meta, message, Message: message });
const badToken = () =>
  new InvalidNextTokenException({
    ...meta,
    message: 'Invalid value passed for the NextToken parameter',
    Message: 'Invalid value passed for the NextToken parameter',
  });

/**
 * The filter names each list takes, with the values a Status or Type filter may hold (undefined:
 * any), from the Route 53 Resolver API reference (Filter, Name). Resolver still takes the older
 * upper-case names (CREATOR_REQUEST_ID for CreatorRequestId, ...).
 */
const RULE_FILTERS: Record<string, readonly string[] | undefined> = {
  CreatorRequestId: undefined,
  DomainName: undefined,
  Name: undefined,
  ResolverEndpointId: undefined,
  Status: Object.values(ResolverRuleStatus),
  Type: [RuleTypeOption.Forward, RuleTypeOption.System],
};
const ASSOCIATION_FILTERS: Record<string, readonly string[] | undefined> = {
  Name: undefined,
  ResolverRuleId: undefined,
  Status: [
    ResolverRuleAssociationStatus.Creating,
    ResolverRuleAssociationStatus.Complete,
    ResolverRuleAssociationStatus.Deleting,
    ResolverRuleAssociationStatus.Failed,
  ],
  VPCId: undefined,
};
const LEGACY_NAMES: Record<string, string> = {
  CREATOR_REQUEST_ID: 'CreatorRequestId',
  DOMAIN_NAME: 'DomainName',
  NAME: 'Name',
  RESOLVER_ENDPOINT_ID: 'ResolverEndpointId',
  RESOLVER_RULE_ID: 'ResolverRuleId',
  STATUS: 'Status',
  TYPE: 'Type',
  VPC_ID: 'VPCId',
};

/**
 * A list's filters with their names in the current form, or InvalidParameterException for a name
 * the list does not take or a Status or Type value outside the enum (Resolver's error for a
 * parameter that is not valid, with FieldName; it does not document a more precise one).
 */
function listFilters(filters: Filter[], known: Record<string, readonly string[] | undefined>): Required<Filter>[] {
  return filters.map((f) => {
    const name = LEGACY_NAMES[f.Name ?? ''] ?? f.Name ?? '';
    const refuse = (message: string) =>
      new InvalidParameterException({ ...meta, message, Message: message, FieldName: 'Filters' });
    if (!(name in known)) {
      throw refuse(`${String(f.Name)} is not a valid filter name; valid: ${Object.keys(known).join(', ')}.`);
    }
    const values = f.Values ?? [];
    const allowed = known[name];
    const wrong = allowed && values.find((v) => !allowed.includes(v));
    if (wrong) throw refuse(`${wrong} is not a valid value for filter ${name}; valid: ${allowed.join(', ')}.`);
    return { Name: name, Values: values };
  });
}

export const resolverCommands = {
  ListResolverRules(
    estate: SandboxEstate,
    input: ListResolverRulesCommandInput,
  ): Answer<ListResolverRulesCommandOutput> {
    const filters = listFilters(input.Filters ?? [], RULE_FILTERS);
    const size = pageSizeOf(input.MaxResults, LIST_PAGE, validation);
    const field: Record<string, (r: Rule) => string | undefined> = {
      CreatorRequestId: (r) => r.creatorRequestId,
      DomainName: (r) => withDot(r.domain),
      Name: (r) => r.name,
      ResolverEndpointId: (r) => r.endpointId,
      Status: (r) => toAwsRule(estate, r).Status,
      Type: (r) => r.ruleType,
    };
    // Each Values ORed, filters ANDed. Resolver is not known to filter page by page (as SSM and
    // EC2 do), so the matches are paged.
    const matching = estate.state.network.resolverRules.filter((r) =>
      filters.every((f) => f.Values.includes(String(field[f.Name]?.(r)))),
    );
    const { page, next } = filteredPage(matching, () => true, { token: input.NextToken, size, badToken });
    return { ResolverRules: page.map((r) => toAwsRule(estate, r)), NextToken: next, MaxResults: input.MaxResults };
  },

  ListResolverRuleAssociations(
    estate: SandboxEstate,
    input: ListResolverRuleAssociationsCommandInput,
  ): Answer<ListResolverRuleAssociationsCommandOutput> {
    const filters = listFilters(input.Filters ?? [], ASSOCIATION_FILTERS);
    const size = pageSizeOf(input.MaxResults, LIST_PAGE, validation);
    const ids = filters.find((f) => f.Name === 'ResolverRuleId')?.Values;
    const rules = estate.state.network.resolverRules.filter((r) => !ids || ids.includes(r.id));
    const all = rules.flatMap((r) =>
      associationsOf(estate, r).map(({ vpc, status }): ResolverRuleAssociation => ({
        Id: associationId(r, vpc),
        ResolverRuleId: r.id,
        VPCId: vpc,
        Name: `${r.name ?? r.id}-${vpc}`,
        Status: status,
      })),
    );
    const field: Record<string, (a: ResolverRuleAssociation) => string | undefined> = {
      Name: (a) => a.Name,
      ResolverRuleId: (a) => a.ResolverRuleId,
      Status: (a) => a.Status,
      VPCId: (a) => a.VPCId,
    };
    const matching = all.filter((a) => filters.every((f) => f.Values.includes(String(field[f.Name]?.(a)))));
    const { page, next } = filteredPage(matching, () => true, { token: input.NextToken, size, badToken });
    return { ResolverRuleAssociations: page, NextToken: next };
  },

  ListTagsForResource(
    estate: SandboxEstate,
    input: ListTagsForResourceCommandInput,
  ): Answer<ListTagsForResourceCommandOutput> {
    const id = String(input.ResourceArn ?? '')
      .split('/')
      .pop();
    return { Tags: rule(estate, id).tags };
  },

  CreateResolverRule(
    estate: SandboxEstate,
    input: CreateResolverRuleCommandInput,
  ): Answer<CreateResolverRuleCommandOutput> {
    const rules = estate.state.network.resolverRules;
    if (rules.some((r) => r.creatorRequestId === input.CreatorRequestId)) {
      throw new ResourceExistsException({
        ...meta,
        message: `Resolver rule with creator request ID '${String(input.CreatorRequestId)}' already exists`,
        ResourceType: 'ResolverRule',
      });
    }
    const endpoint = estate.state.network.resolverEndpoints.find((e) => e.id === input.ResolverEndpointId);
    if (!endpoint || endpoint.direction !== 'OUTBOUND') {
      throw new ResourceNotFoundException({
        ...meta,
        message: `[RSLVR-00102] Outbound endpoint ${String(input.ResolverEndpointId)} does not exist.`,
      });
    }
    const targets = input.TargetIps ?? [];
    if (targets.length < 1 || targets.length > 6) {
      throw new InvalidRequestException({ ...meta, message: 'A forwarding rule takes 1 to 6 target IP addresses.' });
    }
    const created: Rule = {
      id: estate.nextId('rslvr-rr-', 17),
      name: input.Name,
      domain: bare(String(input.DomainName)),
      ruleType: 'FORWARD',
      endpointId: String(input.ResolverEndpointId),
      targets: targetsOf(targets),
      creatorRequestId: String(input.CreatorRequestId),
      tags: (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
      vpcs: [],
    };
    rules.push(created);
    return { ResolverRule: toAwsRule(estate, created) };
  },

  UpdateResolverRule(
    estate: SandboxEstate,
    input: UpdateResolverRuleCommandInput,
  ): Answer<UpdateResolverRuleCommandOutput> {
    const r = rule(estate, input.ResolverRuleId);
    const config = input.Config ?? {};
    if (config.TargetIps) r.targets = targetsOf(config.TargetIps);
    if (config.ResolverEndpointId) r.endpointId = config.ResolverEndpointId;
    if (config.Name) r.name = config.Name;
    const seconds = estate.state.network.delays.updateRuleSeconds;
    if (seconds > 0) r.updatingUntil = new Date(estate.clock.now().getTime() + seconds * 1000).toISOString();
    return { ResolverRule: toAwsRule(estate, r) };
  },

  GetResolverRule(estate: SandboxEstate, input: GetResolverRuleCommandInput): Answer<GetResolverRuleCommandOutput> {
    return { ResolverRule: toAwsRule(estate, rule(estate, input.ResolverRuleId)) };
  },

  AssociateResolverRule(
    estate: SandboxEstate,
    input: AssociateResolverRuleCommandInput,
  ): Answer<AssociateResolverRuleCommandOutput> {
    const r = rule(estate, input.ResolverRuleId);
    const vpc = String(input.VPCId);
    const holder = estate.state.network.resolverRules.find(
      (o) => o.domain === r.domain && associationsOf(estate, o).some((a) => a.vpc === vpc),
    );
    if (holder) {
      throw new InvalidRequestException({
        ...meta,
        message: `[RSLVR-00802] Cannot associate rules with same domain name with same VPC. Conflict with resolver rule "${holder.id}"`,
      });
    }
    const inboundIps = estate.state.network.resolverEndpoints
      .filter((e) => e.direction === 'INBOUND' && e.vpcId === vpc)
      .flatMap((e) => e.ips.map((i) => i.ip));
    if (r.targets.some((t) => inboundIps.includes(t.ip))) {
      throw new InvalidRequestException({
        ...meta,
        message: `[RSLVR-00804] Cannot associate rule ${r.id} to VPC ${vpc} because the VPC include an INBOUND resolver endpoints with rule's target IP. Please try a different rule or update rule's target IP.`,
      });
    }
    r.vpcs.push(vpc);
    changeAssociation(estate, r, vpc, 'CREATING');
    const status =
      associationsOf(estate, r).find((a) => a.vpc === vpc)?.status ?? ResolverRuleAssociationStatus.Complete;
    return { ResolverRuleAssociation: { Id: associationId(r, vpc), ResolverRuleId: r.id, VPCId: vpc, Status: status } };
  },

  DisassociateResolverRule(
    estate: SandboxEstate,
    input: DisassociateResolverRuleCommandInput,
  ): Answer<DisassociateResolverRuleCommandOutput> {
    const r = rule(estate, input.ResolverRuleId);
    const vpc = String(input.VPCId);
    const current = associationsOf(estate, r).find((a) => a.vpc === vpc);
    if (!current || current.status === 'DELETING') {
      throw new ResourceNotFoundException({
        ...meta,
        message: `[RSLVR-00703] Resolver rule ${r.id} is not associated with ${vpc}.`,
      });
    }
    changeAssociation(estate, r, vpc, 'DELETING');
    return {
      ResolverRuleAssociation: { Id: associationId(r, vpc), ResolverRuleId: r.id, VPCId: vpc, Status: 'DELETING' },
    };
  },

  DeleteResolverRule(
    estate: SandboxEstate,
    input: DeleteResolverRuleCommandInput,
  ): Answer<DeleteResolverRuleCommandOutput> {
    const r = rule(estate, input.ResolverRuleId);
    // A rule is in use until every association, DELETING ones included, is gone (API reference:
    // "Before you can delete a Resolver rule, you must disassociate it from all the VPCs").
    if (associationsOf(estate, r).length) {
      throw new ResourceInUseException({
        ...meta,
        message: `Please disassociate resolver rule ${r.id} from its VPCs before deleting it.`,
        ResourceType: 'ResolverRule',
      });
    }
    estate.state.network.resolverRules = estate.state.network.resolverRules.filter((o) => o.id !== r.id);
    return { ResolverRule: toAwsRule(estate, r) };
  },

  GetResolverEndpoint(
    estate: SandboxEstate,
    input: GetResolverEndpointCommandInput,
  ): Answer<GetResolverEndpointCommandOutput> {
    const e = endpoint(estate, input.ResolverEndpointId);
    return {
      ResolverEndpoint: {
        Id: e.id,
        Direction: e.direction,
        Status: e.status,
        HostVPCId: e.vpcId,
        IpAddressCount: e.ips.length,
        StatusMessage:
          e.status === 'OPERATIONAL' ? 'This Resolver Endpoint is operational.' : `The endpoint is ${e.status}.`,
      },
    };
  },

  ListResolverEndpointIpAddresses(
    estate: SandboxEstate,
    input: ListResolverEndpointIpAddressesCommandInput,
  ): Answer<ListResolverEndpointIpAddressesCommandOutput> {
    const e = endpoint(estate, input.ResolverEndpointId);
    pageSizeOf(input.MaxResults, LIST_PAGE, validation); // an endpoint's few IPs fit one page
    return {
      IpAddresses: e.ips.map((i, n) => ({
        IpId: `rni-${e.id.slice(-8)}${n}`,
        Ip: i.ip,
        SubnetId: i.subnetId,
        // The seed's status (IpAddressResponse.Status, SDK enum IpAddressStatus), ATTACHED unless it says.
        Status: i.status,
      })),
    };
  },
};

/** Route 53 Resolver: forwarding rules, their VPC associations, and endpoints, from the seed's network. */
export const resolverService = {
  name: 'resolver',
  source: __filename,
  exceptions: { base: sdk.Route53ResolverServiceException, module: sdk },
  commands: resolverCommands,
} satisfies SandboxService;
