// Reading a VIP chain's backends from what `nft monitor` prints for one transaction.
import { strict as assert } from 'node:assert';
import { backendsAfter } from '../src/lb-watch.js';

const CHAIN = 'svc_95yd4vbv3l5xif46lhj8tnann';

describe('the overlay benchmark’s VIP chain watch', () => {
  it('counts the backends a transaction leaves: the map’s modulus, one for a plain dnat, none after a bare delete', () => {
    // As printed on this machine when web went from 4 replicas to 3.
    const scaledDown = [
      `delete rule ip tswarm_lb ${CHAIN} handle 15`,
      'delete set ip tswarm_lb __set2',
      'delete set ip tswarm_lb __map0',
      `add rule ip tswarm_lb ${CHAIN} ip daddr 10.0.1.4 meta l4proto { tcp, udp } dnat to numgen random mod 3 map { 0 : 10.0.1.5, 1 : 10.0.1.6, 2 : 10.0.1.7 }`,
    ];
    assert.equal(backendsAfter(scaledDown, CHAIN), 3);
    assert.equal(backendsAfter([`add rule ip tswarm_lb ${CHAIN} ip daddr 10.0.1.4 meta l4proto { tcp, udp } dnat to 10.0.1.5`], CHAIN), 1);
    assert.equal(backendsAfter([`delete rule ip tswarm_lb ${CHAIN} handle 16`], CHAIN), 0);
  });

  it('ignores other services’ chains, other tables and lines that are not rules', () => {
    assert.equal(backendsAfter([`add rule ip tswarm_lb svc_other ip daddr 10.0.1.2 meta l4proto { tcp, udp } dnat to 10.0.1.3`], CHAIN), undefined);
    assert.equal(backendsAfter([`add rule ip tswarm_other ${CHAIN} dnat to 10.0.1.3`], CHAIN), undefined);
    assert.equal(backendsAfter([`add element ip tswarm_lb vips { 10.0.1.4 : jump ${CHAIN} }`, 'add table ip tswbench_monitor_ready'], CHAIN), undefined);
    assert.equal(backendsAfter([], CHAIN), undefined);
  });
});
