import {
  cidrContainsCidr,
  cidrContainsIp,
  cidrsOverlap,
  intToIp,
  ipToInt,
  isCidr,
  isIpv4,
  isRfc1918,
  parseCidr,
} from '#lib/domain/ipv4';

describe('isIpv4', () => {
  it.each(['0.0.0.0', '192.168.10.21', '10.244.0.1', '255.255.255.255'])('accepts %s', (ip) => {
    expect(isIpv4(ip)).toBe(true);
  });

  it.each([
    ['256.0.0.1', 'octet over 255'],
    ['192.168.10', 'three octets'],
    ['192.168.10.21.5', 'five octets'],
    ['192.168.010.21', 'leading zero'],
    ['192.168.10.21/32', 'a CIDR'],
    [' 192.168.10.21', 'leading space'],
    ['gpu-node-01', 'a host name'],
    ['::1', 'IPv6'],
    ['', 'empty'],
  ])('rejects %s (%s)', (ip) => {
    expect(isIpv4(ip)).toBe(false);
  });
});

describe('ipToInt and intToIp', () => {
  it('converts both ways as unsigned 32-bit integers', () => {
    expect(ipToInt('0.0.0.0')).toBe(0);
    expect(ipToInt('192.168.0.1')).toBe(3232235521);
    expect(ipToInt('255.255.255.255')).toBe(4294967295);
    expect(intToIp(3232235521)).toBe('192.168.0.1');
    expect(intToIp(4294967295)).toBe('255.255.255.255');
  });

  it('says what a dotted quad looks like when given something else', () => {
    expect(() => ipToInt('10.0.0')).toThrow("'10.0.0' is not an IPv4 address (dotted quad, e.g. 192.168.10.21)");
  });
});

describe('parseCidr', () => {
  it('reads the seed reference CIDRs as network address, prefix and range', () => {
    expect(parseCidr('192.168.0.0/16')).toEqual({
      text: '192.168.0.0/16',
      base: ipToInt('192.168.0.0'),
      prefix: 16,
      first: ipToInt('192.168.0.0'),
      last: ipToInt('192.168.255.255'),
    });
    expect(parseCidr('10.244.0.0/16').last).toBe(ipToInt('10.244.255.255'));
    expect(parseCidr('10.96.0.0/16').prefix).toBe(16);
  });

  it('reads /32 as one address and /0 as all of them', () => {
    const single = parseCidr('192.168.10.21/32');
    expect(single.first).toBe(single.last);
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ first: 0, last: 4294967295 });
  });

  it.each([
    ['192.168.10.21/24', '192.168.10.0/24'],
    ['10.244.1.5/24', '10.244.1.0/24'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['172.31.255.255/12', '172.16.0.0/12'],
  ])('rejects %s, which has host bits set, and names the network address %s', (text, network) => {
    expect(() => parseCidr(text)).toThrow(`'${text}' has host bits set; the network address is ${network}`);
  });

  it.each(['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0/8', '10.0.0.0/8/8', 'ten/8', '10.0.0.0/-1', ''])(
    'rejects %p as not a CIDR block, with an example',
    (text) => {
      expect(() => parseCidr(text)).toThrow(`'${text}' is not an IPv4 CIDR block (e.g. 192.168.0.0/16)`);
    },
  );

  it('isCidr agrees with parseCidr', () => {
    expect(isCidr('10.244.1.0/24')).toBe(true);
    expect(isCidr('10.244.1.5/24')).toBe(false);
    expect(isCidr('10.244.1.0')).toBe(false);
  });
});

describe('cidrContainsIp', () => {
  const onPrem = parseCidr('192.168.0.0/16');

  it('includes the first and last address of the block', () => {
    expect(cidrContainsIp(onPrem, '192.168.0.0')).toBe(true);
    expect(cidrContainsIp(onPrem, '192.168.10.21')).toBe(true);
    expect(cidrContainsIp(onPrem, '192.168.255.255')).toBe(true);
  });

  it('excludes the addresses just outside it and the VPC addresses', () => {
    expect(cidrContainsIp(onPrem, '192.167.255.255')).toBe(false);
    expect(cidrContainsIp(onPrem, '192.169.0.0')).toBe(false);
    expect(cidrContainsIp(onPrem, '10.0.0.5')).toBe(false);
  });
});

describe('cidrContainsCidr', () => {
  const pods = parseCidr('10.244.0.0/16');

  it('holds a smaller block inside and the block itself', () => {
    expect(cidrContainsCidr(pods, parseCidr('10.244.1.0/24'))).toBe(true);
    expect(cidrContainsCidr(pods, parseCidr('10.244.255.0/24'))).toBe(true);
    expect(cidrContainsCidr(pods, pods)).toBe(true);
  });

  it('does not hold a larger block, a neighbour, or a block that only overlaps', () => {
    expect(cidrContainsCidr(pods, parseCidr('10.244.0.0/15'))).toBe(false);
    expect(cidrContainsCidr(pods, parseCidr('10.245.0.0/24'))).toBe(false);
    expect(cidrContainsCidr(parseCidr('10.244.1.0/24'), pods)).toBe(false);
  });
});

describe('cidrsOverlap', () => {
  it('finds no overlap in the seed reference plan (VPC, on-prem, pods, services)', () => {
    const plan = ['10.0.0.0/16', '10.1.0.0/16', '192.168.0.0/16', '10.244.0.0/16', '10.96.0.0/16'].map(parseCidr);
    plan.forEach((a, i) => {
      for (const b of plan.slice(i + 1)) expect(cidrsOverlap(a, b)).toBe(false);
    });
  });

  it('finds overlap in either order, for nesting and for a shared edge', () => {
    const vpc = parseCidr('10.0.0.0/16');
    const inside = parseCidr('10.0.128.0/17');
    expect(cidrsOverlap(vpc, inside)).toBe(true);
    expect(cidrsOverlap(inside, vpc)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/8'), vpc)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.255.255/32'), vpc)).toBe(true);
  });

  it('does not count adjacent blocks as overlapping', () => {
    expect(cidrsOverlap(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16'))).toBe(false);
    expect(cidrsOverlap(parseCidr('10.0.255.255/32'), parseCidr('10.1.0.0/32'))).toBe(false);
  });
});

describe('isRfc1918', () => {
  it.each(['10.0.0.0/8', '10.244.0.0/16', '172.16.0.0/12', '172.31.0.0/16', '192.168.0.0/16', '192.168.10.0/24'])(
    'accepts %s',
    (text) => {
      expect(isRfc1918(parseCidr(text))).toBe(true);
    },
  );

  it.each([
    ['172.32.0.0/16', 'just past 172.16/12'],
    ['172.15.0.0/16', 'just before 172.16/12'],
    ['192.169.0.0/16', 'just past 192.168/16'],
    ['192.168.0.0/15', 'larger than 192.168/16'],
    ['8.0.0.0/8', 'public'],
    ['100.64.0.0/10', 'carrier-grade NAT, not RFC 1918'],
    ['0.0.0.0/0', 'everything'],
  ])('rejects %s (%s)', (text) => {
    expect(isRfc1918(parseCidr(text))).toBe(false);
  });
});
