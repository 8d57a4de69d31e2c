import * as sdk from '@aws-sdk/client-eks';
import {
  AuthenticationMode,
  Category,
  ClusterStatus,
  type DescribeAccessEntryCommandInput,
  type DescribeAccessEntryCommandOutput,
  type DescribeClusterCommandInput,
  type DescribeClusterCommandOutput,
  InsightStatusValue,
  InvalidParameterException,
  type ListAccessEntriesCommandInput,
  type ListAccessEntriesCommandOutput,
  type ListInsightsCommandInput,
  type ListInsightsCommandOutput,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import * as z from 'zod';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { filteredPage, type PageRange, pageSizeOf } from '../paging';
import type { Answer, SandboxService } from '../service';

const meta = { $metadata: {} };

/**
 * ListInsights and ListAccessEntries take maxResults 1-100 and give 100 without it (the EKS service
 * model and API reference). EKS answers a parameter it refuses with InvalidParameterException (the
 * operations' error lists; aws/aws-sdk-go#4457 shows it for a maxResults).
 */
const LIST_PAGE: PageRange = { member: 'maxResults', min: 1, max: 100, fallback: 100 };
const invalid = (message: string) => new InvalidParameterException({ ...meta, message });
const badToken = () => invalid('The nextToken is not valid.');

/** Refuses a ListInsights filter value outside the model's enums (Category, InsightStatusValue). */
function checkInsightsFilter(filter: { categories?: string[]; statuses?: string[]; kubernetesVersions?: string[] }) {
  if (filter.kubernetesVersions?.length) {
    throw new SandboxNotImplementedError(
      'The sandbox does not filter eks:ListInsights by kubernetesVersions.',
      'Add it to lib/sandbox/services/eks.ts, or run with --estate aws.',
    );
  }
  const check = (name: string, values: string[] | undefined, allowed: string[]) => {
    const wrong = values?.find((v) => !allowed.includes(v));
    if (wrong) throw invalid(`${wrong} is not a valid value for filter.${name}; valid: ${allowed.join(', ')}.`);
  };
  check('categories', filter.categories, Object.values(Category));
  check('statuses', filter.statuses, Object.values(InsightStatusValue));
}

function cluster(estate: SandboxEstate, name: unknown) {
  const found = estate.seed.clusters.find((c) => c.name === name);
  if (!found) throw new ResourceNotFoundException({ ...meta, message: `No cluster found for name: ${String(name)}.` });
  return found;
}

const clusterArn = (estate: SandboxEstate, name: string) =>
  `arn:aws:eks:${estate.seed.region}:${estate.seed.account}:cluster/${name}`;

/** What the seed declares for EKS: its clusters, with their access entries and insights. */
const eksSeed = {
  clusters: z.array(
    z.object({
      name: z.string(),
      /** As DescribeCluster reports it: one of the SDK model's ClusterStatus values. */
      status: z.enum(Object.values(ClusterStatus)),
      version: z.string(),
      endpoint: z.string(),
      certificateAuthority: z.string(),
      vpcId: z.string(),
      subnetIds: z.array(z.string()).default([]),
      serviceCidr: z.string(),
      remoteNodeCidrs: z.array(z.string()).default([]),
      remotePodCidrs: z.array(z.string()).default([]),
      /** One of the SDK model's AuthenticationMode values. */
      authenticationMode: z.enum(Object.values(AuthenticationMode)).default(AuthenticationMode.API_AND_CONFIG_MAP),
      accessEntries: z.array(z.object({ principalArn: z.string(), type: z.string() })).default([]),
      /** EKS cluster insights (ListInsights), as EKS reports them. */
      insights: z
        .array(
          z.object({
            id: z.string(),
            name: z.string(),
            category: z.enum(['UPGRADE_READINESS', 'MISCONFIGURATION']),
            status: z.enum(['PASSING', 'WARNING', 'ERROR', 'UNKNOWN']),
            description: z.string().optional(),
            reason: z.string().optional(),
          }),
        )
        .default([]),
    }),
  ),
};

export const eksCommands = {
  DescribeCluster(estate: SandboxEstate, input: DescribeClusterCommandInput): Answer<DescribeClusterCommandOutput> {
    const c = cluster(estate, input.name);
    return {
      cluster: {
        name: c.name,
        arn: clusterArn(estate, c.name),
        status: c.status,
        version: c.version,
        endpoint: c.endpoint,
        certificateAuthority: { data: c.certificateAuthority },
        resourcesVpcConfig: {
          vpcId: c.vpcId,
          subnetIds: c.subnetIds,
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: c.serviceCidr, ipFamily: 'ipv4' },
        remoteNetworkConfig: c.remoteNodeCidrs.length
          ? {
              remoteNodeNetworks: [{ cidrs: c.remoteNodeCidrs }],
              remotePodNetworks: c.remotePodCidrs.length ? [{ cidrs: c.remotePodCidrs }] : [],
            }
          : undefined,
        accessConfig: { authenticationMode: c.authenticationMode },
      },
    };
  },

  ListAccessEntries(
    estate: SandboxEstate,
    input: ListAccessEntriesCommandInput,
  ): Answer<ListAccessEntriesCommandOutput> {
    const c = cluster(estate, input.clusterName);
    if (input.associatedPolicyArn !== undefined) {
      throw new SandboxNotImplementedError(
        'The sandbox does not filter eks:ListAccessEntries by associatedPolicyArn.',
        'Add it to lib/sandbox/services/eks.ts, or run with --estate aws.',
      );
    }
    const size = pageSizeOf(input.maxResults, LIST_PAGE, invalid);
    const { page, next } = filteredPage(
      c.accessEntries.map((e) => e.principalArn),
      () => true,
      { token: input.nextToken, size, badToken },
    );
    return { accessEntries: page, nextToken: next };
  },

  ListInsights(estate: SandboxEstate, input: ListInsightsCommandInput): Answer<ListInsightsCommandOutput> {
    const c = cluster(estate, input.clusterName);
    const filter = input.filter ?? {};
    checkInsightsFilter(filter);
    const size = pageSizeOf(input.maxResults, LIST_PAGE, invalid);
    // EKS is not known to filter page by page (as SSM and EC2 do): the matches are paged.
    const { page, next } = filteredPage(
      c.insights.filter(
        (i) =>
          (!filter.categories?.length || filter.categories.includes(i.category)) &&
          (!filter.statuses?.length || filter.statuses.includes(i.status)),
      ),
      () => true,
      { token: input.nextToken, size, badToken },
    );
    return {
      insights: page.map((i) => ({
        id: i.id,
        name: i.name,
        category: i.category,
        kubernetesVersion: c.version,
        description: i.description,
        insightStatus: { status: i.status, reason: i.reason },
        lastRefreshTime: estate.clock.now(),
      })),
      nextToken: next,
    };
  },

  DescribeAccessEntry(
    estate: SandboxEstate,
    input: DescribeAccessEntryCommandInput,
  ): Answer<DescribeAccessEntryCommandOutput> {
    const c = cluster(estate, input.clusterName);
    const entry = c.accessEntries.find((e) => e.principalArn === input.principalArn);
    if (!entry)
      throw new ResourceNotFoundException({ ...meta, message: `The specified principalArn could not be found.` });
    return {
      accessEntry: {
        clusterName: c.name,
        principalArn: entry.principalArn,
        type: entry.type,
        accessEntryArn: `arn:aws:eks:${estate.seed.region}:${estate.seed.account}:access-entry/${c.name}/role/${entry.principalArn.split('/').pop()}`,
      },
    };
  },
};

/** EKS: clusters and their access entries, from the seed. */
export const eksService = {
  name: 'eks',
  source: __filename,
  exceptions: { base: sdk.EKSServiceException, module: sdk },
  commands: eksCommands,
  seed: eksSeed,
} satisfies SandboxService<typeof eksSeed>;
