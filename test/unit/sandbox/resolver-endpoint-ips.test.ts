import { ListResolverEndpointIpAddressesCommand } from '@aws-sdk/client-route53resolver';
import type { ClusterDesiredState, DesiredState } from '#lib/desired-state/schema';
import { inboundEndpointFindings } from '#lib/network/inbound-endpoint';
import { checkResolution } from '#lib/network/resolution';
import { withServices } from '#lib/sandbox/index';
import { sandboxDns } from '#lib/sandbox/dns';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { type EstateSeed, parseSeed } from '#lib/sandbox/seed';

/**
 * The sandbox's Resolver endpoint addresses carry an IpAddressStatus (ATTACHED unless the seed
 * says), so the inbound-endpoint check can meet one that does not serve yet.
 */
const INBOUND_ID = 'rslvr-in-0a1b2c3d4e5f60718';
const SUBNET_2C = 'subnet-0bb2b2b2b2b2b2b2b';
const VPC_ID = 'vpc-0a1b2c3d4e5f60718';

/** The seed, with the inbound endpoint's second address (the one in ap-northeast-2c) CREATING. */
function seedWithCreatingAddress(): EstateSeed {
  const seed = loadSeed(DEFAULT_SEED);
  const inbound = seed.network.resolverEndpoints.find((e) => e.id === INBOUND_ID);
  const second = inbound?.ips[1];
  if (!second) throw new Error('the seed has no second inbound address');
  second.status = 'CREATING';
  return seed;
}

const cluster: ClusterDesiredState = {
  name: 'gpu-hybrid-cluster',
  dns: {
    outbound: { endpointId: 'rslvr-out-0a1b2c3d4e5f60718', rules: [] },
    inbound: { endpointId: INBOUND_ID },
    checks: { awsName: 'my-service.eks.amazonaws.com' },
  },
};

describe('sandbox Resolver endpoint addresses', () => {
  it('lists the seeded addresses ATTACHED by default, and the status a seed gives one', async () => {
    const plain = withServices(SandboxEstate.inMemory());
    const changed = withServices(SandboxEstate.inMemory(seedWithCreatingAddress()));
    const statuses = async (estate: SandboxEstate) =>
      (
        await estate
          .clients()
          .resolver.send(new ListResolverEndpointIpAddressesCommand({ ResolverEndpointId: INBOUND_ID }))
      ).IpAddresses?.map((a) => [a.Ip, a.Status]);

    await expect(statuses(plain)).resolves.toEqual([
      ['10.0.1.100', 'ATTACHED'],
      ['10.0.2.100', 'ATTACHED'],
    ]);
    await expect(statuses(changed)).resolves.toEqual([
      ['10.0.1.100', 'ATTACHED'],
      ['10.0.2.100', 'CREATING'],
    ]);
  });

  it('fails the two-AZ check of an endpoint in two AZs whose second address is CREATING, naming it', async () => {
    const estate = withServices(SandboxEstate.inMemory(seedWithCreatingAddress()));

    const findings = await inboundEndpointFindings(estate.clients(), cluster);

    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toBe(
      `Inbound endpoint ${INBOUND_ID} has IPs (10.0.1.100) in 1 AZ(s); it needs at least two to survive an AZ outage. Not serving (only ATTACHED addresses answer): 10.0.2.100 (${SUBNET_2C}) is CREATING.`,
    );
  });

  it('asks only the ATTACHED address for the AWS name', async () => {
    const estate = withServices(SandboxEstate.inMemory(seedWithCreatingAddress()));

    const desired: DesiredState = { version: 1, clusters: [cluster] };

    const { checks } = await checkResolution(
      { dns: sandboxDns(estate, VPC_ID), resolver: estate.clients().resolver },
      desired,
    );

    expect(checks.map((c) => c.via)).toEqual(['inbound endpoint 10.0.1.100']);
  });

  it('refuses a seed address status that is not an IpAddressStatus', () => {
    const text = `network:\n  resolverEndpoints:\n    - { id: ${INBOUND_ID}, direction: INBOUND, vpcId: ${VPC_ID}, ips: [{ ip: 10.0.1.100, subnetId: ${SUBNET_2C}, status: ATACHED }] }\n`;

    expect(() => parseSeed(text, 'seed.yaml')).toThrow(/network\.resolverEndpoints\.0\.ips\.0\.status/);
  });
});
