import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeKeyStore, NODE_CERT_FILE, NODE_KEY_FILE, ROOT_CA_FILE, TlsIdentity } from '../src/index.js';
import { makeCA, makeNode } from './helpers.js';

describe('NodeKeyStore (<data-dir>/certificates)', () => {
  let dataDir: string;
  let creds: TlsIdentity;
  let renewed: TlsIdentity;

  before(async () => {
    const ca = await makeCA();
    creds = await makeNode(ca, 'n1', 'worker');
    renewed = await makeNode(ca, 'n1', 'manager');
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tswarm-ca-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const mode = async (p: string) => (await stat(p)).mode & 0o777;

  it('returns null when the node has no credentials yet', async () => {
    assert.equal(await new NodeKeyStore(dataDir).load(), null);
  });

  it('round-trips key, certificate and CA with the key readable by its owner only', async () => {
    const store = new NodeKeyStore(dataDir);
    await store.save(creds);
    const loaded = await new NodeKeyStore(dataDir).load();
    assert.ok(loaded);
    assert.equal(loaded.keyPem, creds.keyPem);
    assert.equal(loaded.certPem, creds.certPem);
    assert.equal(loaded.caPem, creds.caPem);
    assert.equal(loaded.identity.nodeId, 'n1');
    assert.equal(await mode(store.path(NODE_KEY_FILE)), 0o600);
    assert.equal(await mode(store.path(NODE_CERT_FILE)), 0o644);
    assert.equal(await mode(store.path(ROOT_CA_FILE)), 0o644);
    assert.equal(await mode(store.dir), 0o700);
  });

  it('replaces credentials on renewal and leaves no temporary files', async () => {
    const store = new NodeKeyStore(dataDir);
    await store.save(creds);
    await store.save(renewed);
    assert.equal((await store.load())!.identity.role, 'manager');
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(store.dir)).sort(), [ROOT_CA_FILE, NODE_CERT_FILE, NODE_KEY_FILE].sort());
  });

  it('finishes a save that crashed between renames (new key live, new cert still pending)', async () => {
    const store = new NodeKeyStore(dataDir);
    await store.save(creds);
    // Simulate: phase 1 done, then only the CA and key renamed before the crash.
    await writeFile(store.path(ROOT_CA_FILE), renewed.caPem);
    await writeFile(store.path(NODE_KEY_FILE), renewed.keyPem);
    await writeFile(store.path(NODE_CERT_FILE + '.new'), renewed.certPem);
    const loaded = await store.load();
    assert.equal(loaded!.identity.role, 'manager');
    assert.equal(await readFile(store.path(NODE_CERT_FILE), 'utf8'), renewed.certPem);
  });

  it('discards a save that crashed while writing its temporary files', async () => {
    const store = new NodeKeyStore(dataDir);
    await store.save(creds);
    await writeFile(store.path(ROOT_CA_FILE + '.new'), creds.caPem);
    await writeFile(store.path(NODE_KEY_FILE + '.new'), renewed.keyPem.slice(0, 40)); // torn write
    const loaded = await store.load();
    assert.equal(loaded!.identity.role, 'worker');
    assert.equal(loaded!.keyPem, creds.keyPem);
  });

  it('says how to recover when files are missing or do not belong together', async () => {
    const store = new NodeKeyStore(dataDir);
    await store.save(creds);
    await writeFile(store.path(NODE_KEY_FILE), renewed.keyPem);
    await assert.rejects(store.load(), /holds unusable credentials: the node private key does not match the node certificate; the node must join the cluster again/);
    await rm(store.path(NODE_CERT_FILE));
    await assert.rejects(store.load(), /is incomplete \(missing swarm-node.crt\); remove the directory and join the swarm again/);
  });

  it('refuses to save a set that would not load', async () => {
    await assert.rejects(new NodeKeyStore(dataDir).save({ ...creds, keyPem: renewed.keyPem }), /does not match/);
  });
});
