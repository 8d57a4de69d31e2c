import {
  type InsightsFilter,
  InvalidParameterException,
  ListAccessEntriesCommand,
  ListInsightsCommand,
  type ListInsightsRequest,
} from '@aws-sdk/client-eks';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';

/**
 * The sandbox's EKS lists take the page sizes and filter values the EKS service model allows, and
 * refuse others with InvalidParameterException, as EKS does.
 */

const CLUSTER = 'gpu-hybrid-cluster';
const open = () => withServices(SandboxEstate.inMemory());
const insights = (input: Omit<ListInsightsRequest, 'clusterName'>) =>
  open()
    .clients()
    .eks.send(new ListInsightsCommand({ clusterName: CLUSTER, ...input }));

describe('sandbox EKS ListInsights', () => {
  it.each([0, 101])('answers InvalidParameterException to maxResults %i, outside 1-100', async (maxResults) => {
    await expect(insights({ maxResults })).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('takes maxResults 1 and 100, the ends of its range', async () => {
    expect((await insights({ maxResults: 1 })).insights).toHaveLength(1);
    expect((await insights({ maxResults: 100 })).insights).toHaveLength(2);
  });

  it.each([
    [
      { statuses: ['FAILING'] },
      'FAILING is not a valid value for filter.statuses; valid: ERROR, PASSING, UNKNOWN, WARNING.',
    ],
    [
      { categories: ['UPGRADE'] },
      'UPGRADE is not a valid value for filter.categories; valid: MISCONFIGURATION, ROLLBACK_READINESS, UPGRADE_READINESS.',
    ],
  ])('answers InvalidParameterException to the filter %j', async (filter, message) => {
    // Values the SDK's types refuse, sent anyway, as an untyped caller could.
    await expect(insights({ filter: filter as InsightsFilter })).rejects.toThrow(
      new InvalidParameterException({ $metadata: {}, message }),
    );
  });

  it('does not pretend to filter by Kubernetes version', async () => {
    await expect(insights({ filter: { kubernetesVersions: ['1.33'] } })).rejects.toBeInstanceOf(
      SandboxNotImplementedError,
    );
  });

  it('answers InvalidParameterException to a token it never gave', async () => {
    await expect(insights({ nextToken: 'insights#1' })).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('sandbox EKS ListAccessEntries', () => {
  it('pages by maxResults, and refuses one outside 1-100', async () => {
    const eks = open().clients().eks;

    const first = await eks.send(new ListAccessEntriesCommand({ clusterName: CLUSTER, maxResults: 1 }));
    const second = await eks.send(
      new ListAccessEntriesCommand({ clusterName: CLUSTER, maxResults: 1, nextToken: first.nextToken }),
    );

    expect([first.accessEntries, second.accessEntries]).toEqual([
      ['arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole'],
      ['arn:aws:iam::111122223333:role/platform-admin'],
    ]);
    expect(second.nextToken).toBeUndefined();
    await expect(
      eks.send(new ListAccessEntriesCommand({ clusterName: CLUSTER, maxResults: 101 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});
