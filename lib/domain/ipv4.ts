/** IPv4 addresses and CIDR blocks as integers: enough for containment and overlap checks. */

export interface Cidr {
  readonly text: string;
  readonly base: number;
  readonly prefix: number;
  /** First and last address, inclusive, as unsigned 32-bit integers. */
  readonly first: number;
  readonly last: number;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipToInt(text: string): number {
  if (!isIpv4(text)) throw new TypeError(`'${text}' is not an IPv4 address (dotted quad, e.g. 192.168.10.21)`);
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/n`; the base must be the network address (no host bits set). */
export function parseCidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match?.[1] || match[2] === undefined || !isIpv4(match[1]) || Number(match[2]) > 32) {
    throw new TypeError(`'${text}' is not an IPv4 CIDR block (e.g. 192.168.0.0/16)`);
  }
  const prefix = Number(match[2]);
  const size = 2 ** (32 - prefix);
  const base = ipToInt(match[1]);
  if (base % size !== 0) {
    throw new TypeError(
      `'${text}' has host bits set; the network address is ${intToIp(base - (base % size))}/${prefix}`,
    );
  }
  return { text, base, prefix, first: base, last: base + size - 1 };
}

export function isCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

export function cidrContainsIp(cidr: Cidr, ip: string): boolean {
  const value = ipToInt(ip);
  return value >= cidr.first && value <= cidr.last;
}

export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** The private ranges of RFC 1918. */
export const RFC1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map(parseCidr);

export function isRfc1918(cidr: Cidr): boolean {
  return RFC1918.some((range) => cidrContainsCidr(range, cidr));
}
