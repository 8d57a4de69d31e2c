import {
  AssociateResolverRuleCommand,
  CreateResolverRuleCommand,
  DeleteResolverRuleCommand,
  DisassociateResolverRuleCommand,
  GetResolverRuleCommand,
  ListTagsForResourceCommand,
  paginateListResolverRuleAssociations,
  paginateListResolverRules,
  type ResolverRuleAssociation,
  ResolverRuleAssociationStatus,
  ResolverRuleStatus,
  ResourceExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
  type Route53ResolverClient,
  RuleTypeOption,
  ShareStatus,
  type TargetAddress,
  UpdateResolverRuleCommand,
} from '@aws-sdk/client-route53resolver';
import { PAGE_SIZE } from '../aws/page-sizes';
import { isTransientAwsError } from '../errors';
import type { Action, Outcome } from './plan';
import {
  MANAGED_TAG,
  normaliseDomain,
  type ObservedAssociation,
  type ObservedRule,
  type ResolverObservation,
} from './resolver-plan';

/**
 * Reads what Resolver has: every FORWARD rule and every rule association (paginated), and the
 * tags of the rules that could be this project's (a declared domain, or created by it), to tell
 * managed rules from others without reading every rule's tags.
 */
export async function observeResolver(
  resolver: Route53ResolverClient,
  input: { domains: string[]; owner: string },
): Promise<ResolverObservation> {
  const raw: Array<Omit<ObservedRule, 'managed'> & { creatorRequestId?: string; shared: boolean }> = [];
  for await (const page of paginateListResolverRules(
    { client: resolver, pageSize: PAGE_SIZE.resolverList },
    { Filters: [{ Name: 'Type', Values: [RuleTypeOption.Forward] }] },
  )) {
    for (const r of page.ResolverRules ?? []) {
      if (!r.Id || !r.Arn || !r.DomainName) continue;
      raw.push({
        id: r.Id,
        arn: r.Arn,
        name: r.Name,
        domain: normaliseDomain(r.DomainName),
        ruleType: r.RuleType ?? RuleTypeOption.Forward,
        endpointId: r.ResolverEndpointId,
        targets: (r.TargetIps ?? []).filter((t) => t.Ip).map((t) => ({ ip: t.Ip as string, port: t.Port ?? 53 })),
        creatorRequestId: r.CreatorRequestId,
        shared: r.ShareStatus === ShareStatus.SharedWithMe,
      });
    }
  }
  const associations: ObservedAssociation[] = [];
  for await (const page of paginateListResolverRuleAssociations(
    { client: resolver, pageSize: PAGE_SIZE.resolverList },
    {},
  )) {
    for (const a of page.ResolverRuleAssociations ?? []) {
      if (a.Id && a.ResolverRuleId && a.VPCId) {
        associations.push({
          id: a.Id,
          ruleId: a.ResolverRuleId,
          vpcId: a.VPCId,
          status: a.Status ?? ResolverRuleAssociationStatus.Complete,
        });
      }
    }
  }
  const declared = new Set(input.domains);
  const rules: ObservedRule[] = [];
  for (const { creatorRequestId, shared, ...rule } of raw) {
    // A rule shared from another account is never ours (and its tags are not ours to read).
    const candidate = !shared && (declared.has(rule.domain) || creatorRequestId?.startsWith('hybridops-'));
    rules.push({ ...rule, managed: candidate ? await isManaged(resolver, rule.arn, input.owner) : false });
  }
  return { rules, associations };
}

async function isManaged(resolver: Route53ResolverClient, arn: string, owner: string): Promise<boolean> {
  const answer = await resolver.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
  return (answer.Tags ?? []).some((t) => t.Key === MANAGED_TAG && t.Value === owner);
}

/** AWS's "already associated" answer: RSLVR-00802 names the rule that holds the association. */
const RSLVR_00802 = /RSLVR-00802/;
const RSLVR_00804 = /RSLVR-00804/;

const targetsOf = (params: Action['params']) => params.targets as TargetAddress[];

/**
 * Applies one Resolver action and says what became of it. AWS's answers that mean the work is
 * already done count as done; a rule this run created is found by its domain (`created`).
 */
export async function applyResolverAction(
  resolver: Route53ResolverClient,
  action: Action,
  created: Map<string, string>,
): Promise<Outcome> {
  const p = action.params;
  switch (action.type) {
    case 'create-rule': {
      try {
        const answer = await resolver.send(
          new CreateResolverRuleCommand({
            CreatorRequestId: String(p.creatorRequestId),
            Name: String(p.name),
            RuleType: RuleTypeOption.Forward,
            DomainName: String(p.domain),
            TargetIps: targetsOf(p),
            ResolverEndpointId: String(p.endpointId),
            Tags: [{ Key: MANAGED_TAG, Value: String(p.owner) }],
          }),
        );
        if (answer.ResolverRule?.Id) created.set(String(p.domain), answer.ResolverRule.Id);
        return 'done';
      } catch (error) {
        if (!(error instanceof ResourceExistsException)) throw error;
        // The same CreatorRequestId: an earlier, throttled try created it.
        const id = await ruleIdByCreatorRequest(resolver, String(p.creatorRequestId));
        if (!id) throw error;
        created.set(String(p.domain), id);
        return 'already-done';
      }
    }
    case 'update-rule': {
      const answer = await resolver.send(
        new UpdateResolverRuleCommand({
          ResolverRuleId: String(p.ruleId),
          Config: { TargetIps: targetsOf(p), ResolverEndpointId: String(p.endpointId) },
        }),
      );
      // AWS applies the change asynchronously: UPDATING, then COMPLETE.
      return answer.ResolverRule?.Status === ResolverRuleStatus.Updating ? 'waiting: the rule is UPDATING' : 'done';
    }
    case 'associate-rule': {
      const ruleId = p.ruleId ? String(p.ruleId) : created.get(String(p.domain));
      if (!ruleId) return `skipped: the rule for ${p.domain} was not created`;
      try {
        const answer = await resolver.send(
          new AssociateResolverRuleCommand({ ResolverRuleId: ruleId, VPCId: String(p.vpcId) }),
        );
        // AWS makes the association asynchronously: CREATING, then COMPLETE.
        const status = answer.ResolverRuleAssociation?.Status;
        return status === ResolverRuleAssociationStatus.Creating
          ? `waiting: the association with ${p.vpcId} is CREATING`
          : 'done';
      } catch (error) {
        const message = (error as Error).message ?? '';
        if (RSLVR_00804.test(message)) {
          return `failed: config error: a target IP of this rule belongs to an INBOUND endpoint in ${p.vpcId} (RSLVR-00804); point the rule at the on-prem DNS servers`;
        }
        if (RSLVR_00802.test(message)) {
          const holder = /rslvr-rr-[0-9a-z]+/.exec(message)?.[0];
          if (holder && holder !== ruleId) {
            return `failed: ${p.vpcId} already forwards this domain with rule ${holder} (RSLVR-00802)`;
          }
          // This rule holds it: an earlier try whose answer was lost made it. It may still be CREATING.
          return associationOutcome(resolver, ruleId, String(p.vpcId));
        }
        throw error;
      }
    }
    case 'disassociate-rule':
      try {
        await resolver.send(
          new DisassociateResolverRuleCommand({ ResolverRuleId: String(p.ruleId), VPCId: String(p.vpcId) }),
        );
        return 'done';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'already-done';
        throw error;
      }
    case 'delete-rule':
      try {
        await resolver.send(new DeleteResolverRuleCommand({ ResolverRuleId: String(p.ruleId) }));
        return 'done';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'already-done';
        if (!(error instanceof ResourceInUseException)) throw error;
        // In use until its associations are gone: wait while AWS is removing them (DELETING), or
        // when none is listed (the last went between the two calls; a rule shared through RAM
        // stays in use while another account associates it: then the wait runs out, deferred).
        // One that stays and nobody is removing will not go by waiting.
        let held: ResolverRuleAssociation[];
        try {
          held = await associationsOfRule(resolver, String(p.ruleId));
        } catch (listError) {
          if (isTransientAwsError(listError)) return 'waiting: it is in use, and its associations could not be listed';
          throw listError;
        }
        if (held.some((a) => a.Status === ResolverRuleAssociationStatus.Deleting)) {
          return 'waiting: its VPC associations are still being removed';
        }
        if (held.length === 0) return 'waiting: AWS still counts it in use, though it lists no association of it';
        return `failed: it is still associated with ${held.map((a) => a.VPCId).join(', ')}, and no disassociation is under way`;
      }
    default:
      throw new Error(`not a Resolver action: ${action.type}`);
  }
}

/** Where a rule AWS is updating stands: COMPLETE is done, FAILED failed, UPDATING still waiting. */
export async function ruleUpdateOutcome(resolver: Route53ResolverClient, ruleId: string): Promise<Outcome> {
  const rule = (await resolver.send(new GetResolverRuleCommand({ ResolverRuleId: ruleId }))).ResolverRule;
  if (rule?.Status === ResolverRuleStatus.Complete) return 'done';
  if (rule?.Status === ResolverRuleStatus.Updating) return 'waiting: the rule is UPDATING';
  return `failed: the rule is ${rule?.Status ?? 'gone'}${rule?.StatusMessage ? `: ${rule.StatusMessage}` : ''}`;
}

async function associationsOfRule(resolver: Route53ResolverClient, ruleId: string): Promise<ResolverRuleAssociation[]> {
  const found: ResolverRuleAssociation[] = [];
  for await (const page of paginateListResolverRuleAssociations(
    { client: resolver },
    { Filters: [{ Name: 'ResolverRuleId', Values: [ruleId] }] },
  )) {
    found.push(...(page.ResolverRuleAssociations ?? []));
  }
  return found;
}

/** Where an association AWS is making stands: COMPLETE is done, FAILED failed, CREATING still waiting. */
export async function associationOutcome(
  resolver: Route53ResolverClient,
  ruleId: string,
  vpcId: string,
): Promise<Outcome> {
  for await (const page of paginateListResolverRuleAssociations(
    { client: resolver },
    {
      Filters: [
        { Name: 'ResolverRuleId', Values: [ruleId] },
        { Name: 'VPCId', Values: [vpcId] },
      ],
    },
  )) {
    const association = page.ResolverRuleAssociations?.[0];
    if (!association) continue;
    if (association.Status === ResolverRuleAssociationStatus.Complete) return 'done';
    if (association.Status === ResolverRuleAssociationStatus.Creating)
      return `waiting: the association with ${vpcId} is CREATING`;
    return `failed: the association with ${vpcId} is ${association.Status}${association.StatusMessage ? `: ${association.StatusMessage}` : ''}`;
  }
  return `failed: the association of ${ruleId} with ${vpcId} is gone`;
}

async function ruleIdByCreatorRequest(resolver: Route53ResolverClient, id: string): Promise<string | undefined> {
  for await (const page of paginateListResolverRules(
    { client: resolver },
    { Filters: [{ Name: 'CreatorRequestId', Values: [id] }] },
  )) {
    const rule = page.ResolverRules?.find((r) => r.CreatorRequestId === id);
    if (rule?.Id) return rule.Id;
  }
  return undefined;
}
