import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CONTAINER_HOSTS, containerResolvConf, writeContainerFiles } from '../src/index.js';

describe('the resolv.conf and hosts a node\'s containers mount', () => {
  it('names the node\'s resolvers and keeps the host\'s search and options lines, as Docker does with --dns', () => {
    const host = '# from DHCP\nnameserver 10.255.255.53\nsearch corp.example lab\noptions ndots:2 timeout:1\n';
    assert.equal(containerResolvConf(host, ['172.20.0.1']), 'nameserver 172.20.0.1\nsearch corp.example lab\noptions ndots:2 timeout:1\n');
    assert.equal(containerResolvConf('', ['172.20.0.1']), 'nameserver 172.20.0.1\n');
  });

  it('writes both files world-readable, replacing an earlier version with a new inode', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tswarm-etc-'));
    try {
      const hostConf = path.join(dir, 'host-resolv.conf');
      await writeFile(hostConf, 'nameserver 9.9.9.9\nsearch example\n');
      const etc = path.join(dir, 'container-etc');
      const files = await writeContainerFiles(etc, ['172.20.0.1'], hostConf);
      assert.equal(await readFile(files.resolvConfPath, 'utf8'), 'nameserver 172.20.0.1\nsearch example\n');
      assert.equal(await readFile(files.hostsPath, 'utf8'), CONTAINER_HOSTS);
      assert.equal((await stat(files.hostsPath)).mode & 0o777, 0o644);
      const before = (await stat(files.resolvConfPath)).ino;
      await writeContainerFiles(etc, ['172.20.0.9'], hostConf);
      assert.equal(await readFile(files.resolvConfPath, 'utf8'), 'nameserver 172.20.0.9\nsearch example\n');
      assert.notEqual((await stat(files.resolvConfPath)).ino, before, 'renamed into place: a mounted old copy stays whole');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to write a resolv.conf without a nameserver', async () => {
    await assert.rejects(writeContainerFiles('/nonexistent-never-created', []), /need a nameserver/);
  });
});
