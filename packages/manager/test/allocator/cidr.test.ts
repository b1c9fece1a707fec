import { strict as assert } from 'node:assert';
import { containsCidr, formatCidr, formatIPv4, overlaps, parseCidr, parseIPv4, type Cidr } from '../../src/index.js';

function cidr(s: string): Cidr {
  const p = parseCidr(s);
  assert.ok(p.ok, `${s}: ${p.ok ? '' : p.reason}`);
  return p.cidr;
}

describe('allocator: IPv4 CIDR helpers', () => {
  it('parses and formats dotted quads, refusing leading zeros and out-of-range octets', () => {
    assert.equal(parseIPv4('10.0.1.2'), 0x0a000102);
    assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
    for (const bad of ['10.0.1', '10.0.1.256', '010.0.0.1', '10.0.0.1 ', 'a.b.c.d', '']) assert.equal(parseIPv4(bad), undefined, bad);
  });

  it('parses networks and names the intended network when host bits are set', () => {
    assert.equal(formatCidr(cidr('10.0.0.0/8')), '10.0.0.0/8');
    assert.equal(formatCidr(cidr('0.0.0.0/0')), '0.0.0.0/0');
    assert.deepEqual(parseCidr('10.0.1.5/24'), { ok: false, reason: 'host bits are set; the network is 10.0.1.0/24' });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08x']) assert.equal(parseCidr(bad).ok, false, bad);
  });

  it('nested blocks overlap and are contained; neighbours are disjoint', () => {
    assert.ok(overlaps(cidr('10.0.0.0/16'), cidr('10.0.1.0/24')));
    assert.ok(overlaps(cidr('10.0.1.0/24'), cidr('10.0.0.0/16')));
    assert.ok(!overlaps(cidr('10.0.0.0/24'), cidr('10.0.1.0/24')));
    assert.ok(containsCidr(cidr('10.0.0.0/16'), cidr('10.0.255.0/24')));
    assert.ok(!containsCidr(cidr('10.0.1.0/24'), cidr('10.0.0.0/16')));
    assert.ok(!containsCidr(cidr('10.0.0.0/16'), cidr('10.1.0.0/24')));
  });
});
