/**
 * Pages and page sizes as AWS serves them, for the sandbox's list and describe handlers.
 *
 * AWS does not promise full pages. SSM applies a DescribeInstanceInformation filter to each page it
 * reads, so a filtered call can answer an empty page with a NextToken while matches are still to
 * come (aws/aws-cli#2626: a tag-filtered call got `"InstanceInformationList":[]` on its third of
 * five pages); EC2 filters its describe pages the same way (aws/aws-sdk-js#940: DescribeInstances
 * with MaxResults 7 and a filter answered 6 and a token). The sandbox's SSM and EC2 lists do the
 * same, so code that stops at a short or empty page fails here before it fails in AWS; the lists
 * of services not known to do it (Resolver, EKS, EFS) page their matches.
 */

/** The page sizes an API allows (its service model's range) and the size it uses when none is asked. */
export interface PageRange {
  /** The request member, as AWS names it in a validation message (`maxResults`). */
  member: string;
  min: number;
  max: number;
  /** The page size the service uses when the request gives none. */
  fallback: number;
}

/**
 * AWS's message for a request member outside the service model's constraints (SSM answers
 * `ValidationException: 1 validation error detected: Value '100' at 'maxResults' failed to
 * satisfy constraint: Member must have value less than or equal to 50`, flanksource/config-db#35;
 * EFS likewise, aws/aws-sdk-js-v3#1288).
 */
export function constraintMessage(member: string, value: unknown, constraint: string): string {
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  return `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: Member must ${constraint}`;
}

/**
 * The page size a request asks for, or the service's default. One outside the model's range is
 * refused with `reject(message)`, the error that service gives for it.
 */
export function pageSizeOf(asked: unknown, range: PageRange, reject: (message: string) => Error): number {
  if (asked === undefined || asked === null) return range.fallback;
  const size = Number(asked);
  if (!Number.isInteger(size) || size < range.min) {
    throw reject(constraintMessage(range.member, asked, `have value greater than or equal to ${range.min}`));
  }
  if (size > range.max) {
    throw reject(constraintMessage(range.member, asked, `have value less than or equal to ${range.max}`));
  }
  return size;
}

/** The sandbox's page token: where the next page starts in the whole (unfiltered) list. */
const tokenAt = (offset: number) => Buffer.from(`sandbox-page:${offset}`).toString('base64');

function offsetOf(token: unknown, badToken: () => Error): number {
  if (token === undefined || token === null || token === '') return 0;
  const decoded =
    typeof token === 'string' ? /^sandbox-page:(\d+)$/.exec(Buffer.from(token, 'base64').toString()) : null;
  const offset = decoded ? Number(decoded[1]) : Number.NaN;
  // A token the sandbox never issued (say, one kept from another list) is refused, as AWS refuses it.
  if (!Number.isSafeInteger(offset) || offset < 1) throw badToken();
  return offset;
}

/**
 * One page of `all`, as AWS serves a filtered list: `size` items of the whole list from the token's
 * place, then `keep` applied to them. A page may hold fewer than `size` matches, or none, and still
 * carry a token: the caller follows tokens until there is none (see the module comment).
 */
export function filteredPage<T>(
  all: readonly T[],
  keep: (item: T) => boolean,
  request: { token: unknown; size: number; badToken: () => Error },
): { page: T[]; next?: string } {
  const start = offsetOf(request.token, request.badToken);
  const end = start + request.size;
  return { page: all.slice(start, end).filter(keep), next: end < all.length ? tokenAt(end) : undefined };
}
