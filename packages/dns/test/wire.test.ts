import { strict as assert } from 'node:assert';
import * as dnsPacket from 'dns-packet';
import {
  encodeResponse, parseQuery, RCODE, RECORD_TTL_S, UDP_PLAIN_MAX_BYTES, EDNS_UDP_MAX_BYTES, udpLimitBytes,
  type AnswerRecord, type ParsedQuery,
} from '../src/index.js';
import { query } from './dns-client.js';

function parsed(buf: Buffer): ParsedQuery {
  const r = parseQuery(buf);
  assert.equal(r.kind, 'query');
  return (r as { query: ParsedQuery }).query;
}
const a = (ip: string): AnswerRecord => ({ type: 'A', data: ip, rdata: Buffer.from(ip.split('.').map(Number)) });
const many = (n: number): AnswerRecord[] => Array.from({ length: n }, (_, i) => a(`10.0.${i >> 8}.${i & 255}`));

describe('wire: reading queries', () => {
  it('reads the question and the EDNS payload size', () => {
    const q = parsed(query('Web.', 'AAAA', { id: 77, edns: 4096 }));
    assert.equal(q.id, 77);
    assert.deepEqual(q.question, { name: 'Web', type: 'AAAA', class: 'IN' });
    assert.equal(q.ednsUdpBytes, 4096);
    assert.equal(parsed(query('web')).ednsUdpBytes, undefined);
  });

  it('calls garbage, a short packet, a cut question and a response malformed', () => {
    const good = query('web.example.com');
    const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'x' }] });
    for (const bad of [Buffer.from('hello'), Buffer.alloc(0), good.subarray(0, good.length - 3), response]) {
      assert.equal(parseQuery(bad).kind, 'malformed', bad.toString('hex'));
    }
  });

  it('answers NOTIMP to other opcodes and FORMERR to zero or two questions (RFC 1035 §4.1.1)', () => {
    const notify = dnsPacket.encode({ type: 'query', id: 5, flags: 4 << 11, questions: [{ type: 'SOA', name: 'x' }] });
    const two = dnsPacket.encode({ type: 'query', id: 6, questions: [{ type: 'A', name: 'x' }, { type: 'A', name: 'y' }] });
    const none = dnsPacket.encode({ type: 'query', id: 7, questions: [] });
    const rcodes = [notify, two, none].map((b) => {
      const r = parseQuery(b);
      assert.equal(r.kind, 'reject');
      const p = dnsPacket.decode((r as { reply: Buffer }).reply);
      return [p.id, (p as { rcode?: string }).rcode, p.flag_qr];
    });
    assert.deepEqual(rcodes, [[5, 'NOTIMP', true], [6, 'FORMERR', true], [7, 'FORMERR', true]]);
  });
});

describe('wire: writing answers', () => {
  it('echoes ID, RD and the question as sent, sets QR/AA/RA, and names every record by pointer', () => {
    const q = parsed(query('WeB', 'A', { id: 4242 }));
    const enc = encodeResponse(q, RCODE.NOERROR, [a('10.0.1.2'), a('10.0.1.3')], RECORD_TTL_S, 512, true);
    const p = dnsPacket.decode(enc.bytes);
    assert.equal(p.id, 4242);
    assert.ok(p.flag_qr && p.flag_aa && p.flag_rd && p.flag_ra && !p.flag_tc);
    assert.deepEqual(p.questions, [{ name: 'WeB', type: 'A', class: 'IN' }]);
    assert.deepEqual(p.answers!.map((r) => [r.name, r.type, (r as { data: string }).data, (r as { ttl: number }).ttl]),
      [['WeB', 'A', '10.0.1.2', RECORD_TTL_S], ['WeB', 'A', '10.0.1.3', RECORD_TTL_S]]);
    assert.equal(p.additionals!.length, 0);
  });

  it('keeps the swarm TTL at 0 so no caching stub can serve a removed task (1 s convergence)', () => {
    assert.equal(RECORD_TTL_S, 0);
  });

  it('writes PTR records, and SERVFAIL without AA when not authoritative', () => {
    const q = parsed(query('10.1.0.10.in-addr.arpa', 'PTR'));
    const ptr: AnswerRecord = { type: 'PTR', data: 'web.1.aaa', rdata: Buffer.from([3, 119, 101, 98, 1, 49, 3, 97, 97, 97, 0]) };
    const p = dnsPacket.decode(encodeResponse(q, RCODE.NOERROR, [ptr], 0, 512, true).bytes);
    assert.deepEqual(p.answers!.map((r) => (r as { data: string }).data), ['web.1.aaa']);
    const f = dnsPacket.decode(encodeResponse(q, RCODE.SERVFAIL, [], 0, 512, false).bytes) as dnsPacket.DecodedPacket & { rcode: string };
    assert.equal(f.rcode, 'SERVFAIL');
    assert.equal(f.flag_aa, false);
  });

  it('sets TC and stays within 512 bytes over UDP without EDNS (RFC 1035 §4.2.1)', () => {
    const q = parsed(query('tasks.big'));
    assert.equal(udpLimitBytes(q), UDP_PLAIN_MAX_BYTES);
    const enc = encodeResponse(q, RCODE.NOERROR, many(40), 0, udpLimitBytes(q), true);
    assert.ok(enc.truncated);
    assert.ok(enc.bytes.length <= 512, `${enc.bytes.length} bytes`);
    const p = dnsPacket.decode(enc.bytes);
    assert.ok(p.flag_tc);
    assert.ok(p.answers!.length > 0 && p.answers!.length < 40, 'as many whole records as fit');
  });

  it('honours the EDNS size up to our own 1232 and echoes an OPT record (RFC 6891 §7)', () => {
    const q = parsed(query('tasks.big', 'A', { edns: 4096 }));
    assert.equal(udpLimitBytes(q), EDNS_UDP_MAX_BYTES);
    assert.equal(udpLimitBytes(parsed(query('x', 'A', { edns: 100 }))), UDP_PLAIN_MAX_BYTES);
    const small = encodeResponse(q, RCODE.NOERROR, many(40), 0, udpLimitBytes(q), true);
    assert.equal(small.truncated, false);
    const p = dnsPacket.decode(small.bytes);
    assert.equal(p.answers!.length, 40);
    const opt = p.additionals!.find((r) => r.type === 'OPT') as dnsPacket.OptAnswer;
    assert.equal(opt.udpPayloadSize, EDNS_UDP_MAX_BYTES);
    const big = encodeResponse(q, RCODE.NOERROR, many(200), 0, udpLimitBytes(q), true);
    assert.ok(big.truncated && big.bytes.length <= EDNS_UDP_MAX_BYTES);
    assert.equal(dnsPacket.decode(big.bytes).additionals!.length, 1, 'the OPT record is kept when truncating');
  });
});
