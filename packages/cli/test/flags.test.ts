import { strict as assert } from 'node:assert';
import { PortProtocol, PublishMode } from '@tswarm/api';
import { BadValue, formatDurationMs, parseBytes, parseConstraint, parseDurationMs, parseEnv, parseNanoCpus, parsePublish, shellSplit } from '../src/index.js';

const TCP = PortProtocol.PORT_PROTOCOL_TCP;
const UDP = PortProtocol.PORT_PROTOCOL_UDP;
const INGRESS = PublishMode.PUBLISH_MODE_INGRESS;
const HOST = PublishMode.PUBLISH_MODE_HOST;
const port = (publishedPort: number, targetPort: number, protocol = TCP, publishMode = INGRESS) => ({ name: '', protocol, targetPort, publishedPort, publishMode });

describe('flag values', () => {
  it('reads durations in Go syntax into milliseconds', () => {
    assert.equal(parseDurationMs('5s'), 5000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('300ms'), 300);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('0'), 0);
    assert.equal(parseDurationMs('1500us'), 2);
    for (const bad of ['5', 'abc', '5 s', '-5s', '', '1d']) assert.throws(() => parseDurationMs(bad), BadValue, bad);
  });

  it('prints durations back in Go notation', () => {
    assert.equal(formatDurationMs(5000), '5s');
    assert.equal(formatDurationMs(90_000), '1m30s');
    assert.equal(formatDurationMs(3_600_000), '1h0m0s');
    assert.equal(formatDurationMs(250), '250ms');
    assert.equal(formatDurationMs(0), '0s');
  });

  it("reads memory sizes with binary units like Docker's RAMInBytes", () => {
    assert.equal(parseBytes('512m'), 512 * 1024 ** 2);
    assert.equal(parseBytes('1g'), 1024 ** 3);
    assert.equal(parseBytes('1GiB'), 1024 ** 3);
    assert.equal(parseBytes('1.5k'), 1536);
    assert.equal(parseBytes('100'), 100);
    assert.equal(parseBytes('64 MB'), 64 * 1024 ** 2);
    for (const bad of ['abc', '1x', '-1m', '', 'm']) assert.throws(() => parseBytes(bad), BadValue, bad);
  });

  it('reads CPUs as exact nano-CPUs and refuses more precision than that', () => {
    assert.equal(parseNanoCpus('0.5'), 500_000_000);
    assert.equal(parseNanoCpus('2'), 2_000_000_000);
    assert.equal(parseNanoCpus('.25'), 250_000_000);
    assert.equal(parseNanoCpus('0.000000001'), 1);
    assert.throws(() => parseNanoCpus('0.0000000001'), /too precise/);
    for (const bad of ['', '.', 'one', '-1', '1e3']) assert.throws(() => parseNanoCpus(bad), BadValue, bad);
  });

  it('reads --publish in short, ranged, moded and long forms', () => {
    assert.deepEqual(parsePublish('8080:80'), [port(8080, 80)]);
    assert.deepEqual(parsePublish('53:53/udp'), [port(53, 53, UDP)]);
    assert.deepEqual(parsePublish('80'), [port(0, 80)]);
    assert.deepEqual(parsePublish('8080-8081:80-81'), [port(8080, 80), port(8081, 81)]);
    assert.deepEqual(parsePublish('mode=host,8080:80/tcp'), [port(8080, 80, TCP, HOST)]);
    assert.deepEqual(parsePublish('published=8080,target=80,protocol=udp,mode=host'), [port(8080, 80, UDP, HOST)]);
    assert.deepEqual(parsePublish('target=80'), [port(0, 80)]);
  });

  it('refuses malformed --publish values with the reason', () => {
    assert.throws(() => parsePublish('127.0.0.1:8080:80'), /host IP/);
    assert.throws(() => parsePublish('8080:80/sctp'), /unsupported protocol "sctp"/);
    assert.throws(() => parsePublish('70000:80'), /out of range/);
    assert.throws(() => parsePublish('published=8080'), /missing mandatory field "target"/);
    assert.throws(() => parsePublish('mode=bridge,80'), /unsupported publish mode/);
    assert.throws(() => parsePublish('8080-8082:80-81'), /differ in size/);
    assert.throws(() => parsePublish('target=80,colour=red'), /unknown field "colour"/);
  });

  it('checks placement constraints for operator and key', () => {
    assert.equal(parseConstraint('node.hostname==h1'), 'node.hostname==h1');
    assert.equal(parseConstraint('node.labels.zone != b'), 'node.labels.zone != b');
    assert.equal(parseConstraint('engine.labels.disk==ssd'), 'engine.labels.disk==ssd');
    assert.throws(() => parseConstraint('node.hostname=h1'), /KEY==VALUE/);
    assert.throws(() => parseConstraint('node.lables.zone==a'), /unknown constraint key "node.lables.zone"/);
    assert.throws(() => parseConstraint('node.role==boss'), /"manager" or "worker"/);
  });

  it('takes a bare -e NAME from the CLI environment, as Docker does', () => {
    process.env['TSWARM_TEST_VAR'] = 'x1';
    try {
      assert.equal(parseEnv('TSWARM_TEST_VAR'), 'TSWARM_TEST_VAR=x1');
      assert.equal(parseEnv('UNSET_TSWARM_TEST_VAR'), 'UNSET_TSWARM_TEST_VAR');
      assert.equal(parseEnv('A=b=c'), 'A=b=c');
      assert.throws(() => parseEnv('=x'), BadValue);
    } finally {
      delete process.env['TSWARM_TEST_VAR'];
    }
  });

  it('splits --args like a shell', () => {
    assert.deepEqual(shellSplit(`sh -c 'echo "hi there"' x\\ y`), ['sh', '-c', 'echo "hi there"', 'x y']);
    assert.throws(() => shellSplit(`'open`), /unterminated/);
  });
});
