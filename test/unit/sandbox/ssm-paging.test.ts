import {
  DescribeActivationsCommand,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationRequest,
  InvalidFilter,
  InvalidFilterKey,
  InvalidInstanceInformationFilterValue,
  InvalidNextToken,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import type { EstateSeed } from '#lib/sandbox/seed';

/**
 * The sandbox's SSM pages as SSM serves them: filters applied to each page, so a page may hold
 * fewer matches than MaxResults, or none, with a NextToken; and requests outside the SSM service
 * model refused with SSM's own errors.
 */

/** The seed with `extra` more managed instances after its own three, named server-NN. */
function seedWith(extra: number): EstateSeed {
  const s = loadSeed(DEFAULT_SEED);
  const base = s.fleet[0]!;
  for (let n = 0; n < extra; n += 1) {
    s.fleet.push({
      ...base,
      name: `server-${String(n).padStart(2, '0')}`,
      instanceId: `mi-0${String(n).padStart(16, '0')}`,
      ip: `192.168.20.${n + 1}`,
    });
  }
  return s;
}
const open = (s: EstateSeed = loadSeed(DEFAULT_SEED)) => withServices(SandboxEstate.inMemory(s));
const describe_ = (estate: SandboxEstate, input: DescribeInstanceInformationRequest) =>
  estate.clients().ssm.send(new DescribeInstanceInformationCommand(input));

describe('sandbox SSM DescribeInstanceInformation pages', () => {
  it('filters each page: a match further on comes after empty pages that carry a NextToken', async () => {
    // 3 seeded + 22 more: server-20 is the 24th instance, on the third page of 10.
    const estate = open(seedWith(22));
    const Filters = [{ Key: 'ActivationIds', Values: ['seeded-server-20'] }];

    const pages = [];
    let NextToken: string | undefined;
    do {
      const page = await describe_(estate, { Filters, NextToken });
      pages.push(page.InstanceInformationList?.map((i) => i.Name));
      NextToken = page.NextToken;
    } while (NextToken);

    expect(pages).toEqual([[], [], ['server-20']]);
  });

  it('gives 10 a page when MaxResults is not set, the default the SSM API reference states', async () => {
    const page = await describe_(open(seedWith(12)), {});

    expect(page.InstanceInformationList).toHaveLength(10);
    expect(page.NextToken).toEqual(expect.any(String));
  });

  it.each([4, 51, 0])('answers ValidationException to MaxResults %i, outside 5-50', async (MaxResults) => {
    const bound = MaxResults < 5 ? 'greater than or equal to 5' : 'less than or equal to 50';

    await expect(describe_(open(), { MaxResults })).rejects.toThrow(
      new ValidationException({
        $metadata: {},
        message: `1 validation error detected: Value '${MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${bound}`,
      }),
    );
  });

  it('takes MaxResults 5 and 50, the ends of its range', async () => {
    const estate = open(seedWith(60));

    expect((await describe_(estate, { MaxResults: 5 })).InstanceInformationList).toHaveLength(5);
    expect((await describe_(estate, { MaxResults: 50 })).InstanceInformationList).toHaveLength(50);
  });

  it('answers InvalidNextToken to a token it never gave', async () => {
    await expect(describe_(open(), { NextToken: 'bm90LWEtdG9rZW4=' })).rejects.toBeInstanceOf(InvalidNextToken);
  });

  it('answers InvalidFilterKey to a key SSM does not know', async () => {
    await expect(describe_(open(), { Filters: [{ Key: 'ActivationId', Values: ['x'] }] })).rejects.toBeInstanceOf(
      InvalidFilterKey,
    );
  });

  it('throws SandboxNotImplementedError for a key SSM knows and the sandbox does not filter by', async () => {
    await expect(describe_(open(), { Filters: [{ Key: 'AgentVersion', Values: ['3.3.0.0'] }] })).rejects.toBeInstanceOf(
      SandboxNotImplementedError,
    );
  });

  it.each([
    ['PingStatus', ['Offline'], 'PingStatus Offline; valid: ConnectionLost, Inactive, Online'],
    ['ResourceType', ['ManagedInstances'], 'ResourceType ManagedInstances; valid: EC2Instance, ManagedInstance'],
    ['PlatformTypes', ['linux'], 'PlatformTypes linux; valid: Linux, MacOS, Windows'],
  ])('answers InvalidInstanceInformationFilterValue to %s %j', async (Key, Values, said) => {
    await expect(describe_(open(), { Filters: [{ Key, Values }] })).rejects.toThrow(
      new InvalidInstanceInformationFilterValue({
        $metadata: {},
        message: `The specified filter value isn't valid: ${said}.`,
      }),
    );
  });

  it('answers InvalidInstanceInformationFilterValue to two ResourceType values, as SSM does', async () => {
    await expect(
      describe_(open(), { Filters: [{ Key: 'ResourceType', Values: ['ManagedInstance', 'EC2Instance'] }] }),
    ).rejects.toThrow('ResourceType filter may contain only one value.');
  });

  it('answers ValidationException to a filter with no values or more than 100', async () => {
    const many = Array.from({ length: 101 }, (_, n) => `a-${n}`);

    await expect(describe_(open(), { Filters: [{ Key: 'ActivationIds', Values: [] }] })).rejects.toThrow(
      "1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    await expect(describe_(open(), { Filters: [{ Key: 'ActivationIds', Values: many }] })).rejects.toBeInstanceOf(
      ValidationException,
    );
  });
});

describe('sandbox SSM DescribeActivations pages', () => {
  const describeActivations = (estate: SandboxEstate, input: object) =>
    estate.clients().ssm.send(new DescribeActivationsCommand(input));

  it('filters each page: an activation second in the list comes after an empty page', async () => {
    const s = loadSeed(DEFAULT_SEED);
    s.activations.push({
      ...s.activations[0]!,
      id: 'a2a2a2a2-0000-4000-8000-000000000002',
      defaultInstanceName: 'gpu-node-08',
    });
    const estate = open(s);
    const Filters = [{ FilterKey: 'DefaultInstanceName', FilterValues: ['gpu-node-08'] }];

    const first = await describeActivations(estate, { Filters, MaxResults: 1 });
    const second = await describeActivations(estate, { Filters, MaxResults: 1, NextToken: first.NextToken });

    expect(first.ActivationList).toEqual([]);
    expect(first.NextToken).toEqual(expect.any(String));
    expect(second.ActivationList?.map((a) => a.DefaultInstanceName)).toEqual(['gpu-node-08']);
    expect(second.NextToken).toBeUndefined();
  });

  it.each([0, 51])('answers ValidationException to MaxResults %i, outside 1-50', async (MaxResults) => {
    await expect(describeActivations(open(), { MaxResults })).rejects.toBeInstanceOf(ValidationException);
  });

  it('answers InvalidFilter to a filter key SSM does not know, whatever the activations', async () => {
    const estate = open();
    estate.state.activations = {};

    await expect(
      describeActivations(estate, { Filters: [{ FilterKey: 'InstanceName', FilterValues: ['x'] }] }),
    ).rejects.toBeInstanceOf(InvalidFilter);
  });
});
