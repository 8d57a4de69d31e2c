import {
  type IpAddressStatus,
  paginateListResolverEndpointIpAddresses,
  type Route53ResolverClient,
} from '@aws-sdk/client-route53resolver';

/** One IP address of a Resolver endpoint, with its status as ListResolverEndpointIpAddresses gives it. */
export interface EndpointAddress {
  ip: string;
  subnetId?: string;
  status?: string;
}

/**
 * The IpAddressStatus values in which an address answers DNS queries: ATTACHED only. The others
 * (SDK enum IpAddressStatus) are on the way in (CREATING, ATTACHING, REMAP_ATTACHING), on the way
 * out (DETACHING, REMAP_DETACHING, DELETING), being changed (UPDATING) or failed
 * (FAILED_CREATION, FAILED_RESOURCE_GONE, DELETE_FAILED_FAS_EXPIRED, UPDATE_FAILED). The API
 * reference says no more than "the current status" (IpAddressResponse.Status,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_IpAddressResponse.html),
 * so a status this code does not know, such as one added later, does not count either.
 */
// A type-checked literal, not the enum object: a module-level use of a value from the Resolver
// client would keep that client in the bundle of every function that imports this module.
export const SERVING_IP_STATUSES: ReadonlySet<string> = new Set<string>(['ATTACHED' satisfies IpAddressStatus]);

export const isServing = (a: EndpointAddress) => a.status !== undefined && SERVING_IP_STATUSES.has(a.status);

/** Every IPv4 address of a Resolver endpoint, whatever its status (all pages). */
export async function endpointAddresses(
  resolver: Route53ResolverClient,
  endpointId: string,
): Promise<EndpointAddress[]> {
  const addresses: EndpointAddress[] = [];
  for await (const page of paginateListResolverEndpointIpAddresses(
    { client: resolver },
    { ResolverEndpointId: endpointId },
  )) {
    for (const a of page.IpAddresses ?? []) {
      if (a.Ip) addresses.push({ ip: a.Ip, subnetId: a.SubnetId, status: a.Status });
    }
  }
  return addresses;
}

/**
 * The addresses of a Resolver endpoint that answer ({@link SERVING_IP_STATUSES}): only they count
 * toward two AZs and are asked.
 */
export async function liveEndpointAddresses(
  resolver: Route53ResolverClient,
  endpointId: string,
): Promise<EndpointAddress[]> {
  return (await endpointAddresses(resolver, endpointId)).filter(isServing);
}
