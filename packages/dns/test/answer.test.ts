import { strict as assert } from 'node:assert';
import { EndpointMode, NetworkView } from '@tswarm/api';
import {
  answerQuery, buildNameTable, isSwarmNamespace, RCODE, reverseName, type Answer, type Forward, type Question,
} from '../src/index.js';
import { BACK, clusterView, endpoint, FRONT, INGRESS, seq, service } from './fixtures.js';

const table = buildNameTable(clusterView());
const ask = (name: string, nets: string[], type = 'A', random = seq(0.5), cls?: string): Answer | Forward => {
  const q: Question = cls ? { name, type, class: cls } : { name, type };
  return answerQuery(q, nets, table, random);
};
/** The answer's data, or the rcode name / 'forward'. */
function data(a: Answer | Forward): string[] | string {
  if (a === 'forward') return 'forward';
  if (a.rcode === RCODE.NXDOMAIN) return 'NXDOMAIN';
  assert.equal(a.rcode, RCODE.NOERROR);
  return a.answers.map((r) => r.data);
}
const sorted = (a: Answer | Forward): string[] | string => {
  const d = data(a);
  return typeof d === 'string' ? d : [...d].sort();
};

describe('service names (VIP mode)', () => {
  it('answer the VIP on the asking client\'s network, without the prefix', () => {
    assert.deepEqual(data(ask('web', [FRONT])), ['10.0.1.2']);
    assert.deepEqual(data(ask('web', [BACK])), ['10.0.2.2']);
  });

  it('answer the union over every network the client is on', () => {
    assert.deepEqual(sorted(ask('web', [FRONT, BACK])), ['10.0.1.2', '10.0.2.2']);
    assert.deepEqual(sorted(ask('web', [BACK, FRONT])), ['10.0.1.2', '10.0.2.2']);
  });

  it('do not exist for a client on none of the service\'s networks (isolation)', () => {
    assert.equal(data(ask('api', [BACK])), 'NXDOMAIN');
    assert.equal(data(ask('db', [FRONT])), 'NXDOMAIN');
    assert.equal(data(ask('tasks.db', [FRONT])), 'NXDOMAIN');
    assert.equal(data(ask('api.1.ddd', [BACK])), 'forward', 'a task name elsewhere is just an unknown dotted name');
  });

  it('do not exist for a client the daemon did not declare (no networks)', () => {
    assert.equal(data(ask('web', [])), 'NXDOMAIN');
    assert.equal(data(ask('example.com', [])), 'forward');
  });

  it('are not published on the ingress network', () => {
    assert.equal(data(ask('web', [INGRESS])), 'NXDOMAIN');
    assert.equal(data(ask('web.1.aaa', [INGRESS])), 'forward');
  });

  it('fall back to the active task IPs when no VIP is allocated on that network', () => {
    const t = buildNameTable(NetworkView.fromPartial({
      services: [service('s-x', 'x', {})],
      endpoints: [endpoint(FRONT, 's-x', 'x.1.a', '10.0.1.50/24'), endpoint(FRONT, 's-x', 'x.2.b', '10.0.1.51/24')],
    }));
    assert.deepEqual(sorted(answerQuery({ name: 'x', type: 'A' }, [FRONT], t, seq(0))), ['10.0.1.50', '10.0.1.51']);
  });
});

describe('tasks.<service>', () => {
  it('answers every active task IP on that network, and no inactive one', () => {
    assert.deepEqual(sorted(ask('tasks.web', [FRONT])), ['10.0.1.10', '10.0.1.11']);
    assert.deepEqual(sorted(ask('tasks.web', [BACK])), ['10.0.2.10', '10.0.2.11']);
    assert.deepEqual(sorted(ask('tasks.db', [BACK])), ['10.0.2.30', '10.0.2.31', '10.0.2.32']);
  });

  it('is NXDOMAIN at once for an unknown service (only the swarm can answer tasks.X)', () => {
    assert.equal(data(ask('tasks.nope', [FRONT])), 'NXDOMAIN');
  });
});

describe('dnsrr services', () => {
  it('answer all active task IPs on that network instead of a VIP', () => {
    assert.deepEqual(sorted(ask('db', [BACK])), ['10.0.2.30', '10.0.2.31', '10.0.2.32']);
  });

  it('shuffle the order per answer with the injected randomness', () => {
    const a = data(ask('db', [BACK], 'A', seq(0.99)));
    const b = data(ask('db', [BACK], 'A', seq(0)));
    assert.deepEqual(a, ['10.0.2.30', '10.0.2.31', '10.0.2.32'], 'random→1 keeps the order (Fisher–Yates)');
    assert.deepEqual(b, ['10.0.2.31', '10.0.2.32', '10.0.2.30'], 'random→0 rotates it');
  });

  it('answer NODATA, not NXDOMAIN, while every task is still starting', () => {
    const a = ask('cache', [BACK]);
    assert.notEqual(a, 'forward');
    assert.deepEqual(a, { rcode: RCODE.NOERROR, answers: [] });
  });
});

describe('aliases', () => {
  it('resolve like the service name: the VIP in VIP mode', () => {
    assert.deepEqual(data(ask('www', [FRONT])), ['10.0.1.2']);
    assert.equal(data(ask('www', [BACK])), 'NXDOMAIN', 'the alias belongs to the front attachment only');
  });

  it('resolve like the service name: the task IPs in dnsrr mode', () => {
    assert.deepEqual(sorted(ask('database', [BACK])), ['10.0.2.30', '10.0.2.31', '10.0.2.32']);
  });
});

describe('task names', () => {
  it('answer the task\'s IP on that network while it is active', () => {
    assert.deepEqual(data(ask('web.1.aaa', [FRONT])), ['10.0.1.10']);
    assert.deepEqual(data(ask('web.1.aaa', [BACK])), ['10.0.2.10']);
  });

  it('of an inactive task are unknown (forwarded like any dotted name)', () => {
    assert.equal(data(ask('web.3.ccc', [FRONT])), 'forward');
  });
});

describe('name matching', () => {
  it('ignores case and a trailing dot', () => {
    assert.deepEqual(data(ask('WEB.', [FRONT])), ['10.0.1.2']);
    assert.deepEqual(sorted(ask('Tasks.Web', [FRONT])), ['10.0.1.10', '10.0.1.11']);
    assert.deepEqual(data(ask('Web.1.AAA.', [FRONT])), ['10.0.1.10']);
  });

  it('answers swarm names only without a domain suffix', () => {
    assert.equal(data(ask('web.example.com', [FRONT])), 'forward');
  });
});

describe('record types (RFC 2308 §2.2: NODATA)', () => {
  it('answers AAAA and other types of a known name with NOERROR and no records', () => {
    for (const type of ['AAAA', 'MX', 'TXT', 'SRV']) {
      assert.deepEqual(ask('web', [FRONT], type), { rcode: RCODE.NOERROR, answers: [] }, type);
      assert.deepEqual(ask('tasks.db', [BACK], type), { rcode: RCODE.NOERROR, answers: [] }, type);
    }
  });

  it('answers ANY with the A records', () => {
    assert.deepEqual(data(ask('web', [FRONT], 'ANY')), ['10.0.1.2']);
  });

  it('treats a non-IN class as not a swarm name', () => {
    assert.equal(data(ask('web', [FRONT], 'A', seq(0), 'CH')), 'NXDOMAIN');
  });
});

describe('unknown names', () => {
  it('are NXDOMAIN when single-label or tasks.<label>, forwarded otherwise', () => {
    assert.equal(data(ask('nope', [FRONT])), 'NXDOMAIN');
    assert.equal(data(ask('nope', [FRONT], 'AAAA')), 'NXDOMAIN');
    assert.equal(data(ask('example.com', [FRONT])), 'forward');
    assert.equal(data(ask('tasks.example.com', [FRONT])), 'forward');
    assert.equal(data(ask('', [FRONT], 'NS')), 'forward', 'the root is not a swarm name');
  });

  it('isSwarmNamespace draws the line on labels', () => {
    assert.deepEqual(
      ['web', 'tasks.web', 'tasks.', 'tasks', 'tasks.a.b', 'a.b', 'taskz.web', ''].map(isSwarmNamespace),
      [true, true, false, true, false, false, false, false],
    );
  });
});

describe('reverse lookups (PTR)', () => {
  it('map active task IPs to task names and VIPs to service names, per network', () => {
    assert.deepEqual(data(ask(reverseName('10.0.1.10'), [FRONT], 'PTR')), ['web.1.aaa']);
    assert.deepEqual(data(ask(reverseName('10.0.1.2'), [FRONT], 'PTR')), ['web']);
    assert.equal(data(ask(reverseName('10.0.1.10'), [BACK], 'PTR')), 'forward');
    assert.equal(data(ask(reverseName('10.0.1.12'), [FRONT], 'PTR')), 'forward', 'inactive task');
  });
});

describe('name table', () => {
  it('memoizes the merged names of a network set, whatever the order', () => {
    assert.equal(table.namesFor([FRONT, BACK]), table.namesFor([BACK, FRONT, BACK]));
  });

  it('drops a service\'s names when the view no longer has it (tasks of a removed service keep task names)', () => {
    const t = buildNameTable(NetworkView.fromPartial({
      services: [],
      endpoints: [endpoint(FRONT, 's-gone', 'gone.1.a', '10.0.1.60/24')],
    }));
    assert.equal(data(answerQuery({ name: 'gone', type: 'A' }, [FRONT], t, seq(0))), 'NXDOMAIN');
    assert.deepEqual(data(answerQuery({ name: 'gone.1.a', type: 'A' }, [FRONT], t, seq(0))), ['10.0.1.60']);
  });

  it('keeps a dnsrr service with no endpoint at all unknown', () => {
    const t = buildNameTable(NetworkView.fromPartial({ services: [service('s-e', 'empty', {}, EndpointMode.ENDPOINT_MODE_DNSRR)] }));
    assert.equal(data(answerQuery({ name: 'empty', type: 'A' }, [FRONT], t, seq(0))), 'NXDOMAIN');
  });
});
