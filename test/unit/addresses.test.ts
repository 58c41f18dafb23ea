import { describe, expect, it } from 'vitest';
import { cidrsOverlap, gatewayAddress, intToIp, ipToInt, nextNodeAddress, parseCidr, pickClusterSubnet } from '../../src/cluster/addresses.js';

describe('address planning', () => {
  it('converts addresses both ways', () => {
    for (const ip of ['0.0.0.0', '10.1.2.3', '172.30.255.254', '255.255.255.255']) expect(intToIp(ipToInt(ip))).toBe(ip);
    expect(() => ipToInt('300.1.1.1')).toThrow();
    expect(() => ipToInt('1.2.3')).toThrow();
  });

  it.each([
    ['172.30.0.0/24', '172.30.0.0/16', true],
    ['172.30.1.0/24', '172.30.0.0/24', false],
    ['172.16.0.0/12', '172.30.5.0/24', true],
    ['10.0.0.0/8', '172.30.0.0/24', false],
  ])('%s overlaps %s: %s', (a, b, expected) => {
    expect(cidrsOverlap(parseCidr(a), parseCidr(b))).toBe(expected);
  });

  it('picks the first /24 that no existing network overlaps', () => {
    expect(pickClusterSubnet([])).toBe('172.30.0.0/24');
    expect(pickClusterSubnet(['172.17.0.0/16', '172.30.0.0/24', '172.30.1.0/24'])).toBe('172.30.2.0/24');
    expect(pickClusterSubnet(['172.30.0.0/16', 'fd00::/64'])).toBe('172.31.0.0/24');
    expect(() => pickClusterSubnet(['172.30.0.0/15'])).toThrow(/no free/);
  });

  it('gives the gateway .1 and nodes the lowest free address from .2', () => {
    expect(gatewayAddress('172.30.4.0/24')).toBe('172.30.4.1');
    expect(nextNodeAddress('172.30.4.0/24', ['172.30.4.1'])).toBe('172.30.4.2');
    expect(nextNodeAddress('172.30.4.0/24', ['172.30.4.1', '172.30.4.2', '172.30.4.4'])).toBe('172.30.4.3');
  });
});
