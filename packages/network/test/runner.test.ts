import * as assert from 'node:assert/strict';
import { CommandError, execRunner, type Spawner } from '../src/index.js';

// One contract, two ways of starting a command: the same cases must hold for both.
for (const spawner of ['addon', 'child_process'] as Spawner[]) {
  describe(`running kernel tools through ${spawner}`, () => {
    const r = execRunner([], spawner);

    it('resolves with stdout when the command exits 0', async () => {
      assert.equal(await r.run(['sh', '-c', 'echo out; echo noise >&2']), 'out\n');
    });

    it('rejects with the exit code and stderr otherwise', async () => {
      const e = await r.run(['sh', '-c', 'echo partial; echo "bad line 3" >&2; exit 3']).catch((x: unknown) => x);
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, 3);
      assert.equal(e.stderr, 'bad line 3\n');
      assert.deepEqual(e.argv, ['sh', '-c', 'echo partial; echo "bad line 3" >&2; exit 3']);
    });

    it('feeds the input on stdin, and carries megabytes both ways without a deadlock', async () => {
      assert.equal(await r.run(['cat'], 'link add x\n'), 'link add x\n');
      const big = 'abcdefgh'.repeat(512 * 1024); // 4 MiB: far beyond a pipe's buffer
      assert.equal((await r.run(['cat'], big)).length, big.length);
      assert.equal((await r.run(['sh', '-c', 'head -c 3000000 /dev/zero >&2; echo done'])), 'done\n');
    });

    it('gives the child every signal unblocked and at its default action', async () => {
      // Node ignores SIGPIPE: a child that inherited that would not end when its reader goes.
      // Signal n is bit n − 1: signals 1–31 are the low 31 bits. 32 and 33 are glibc's own, which its
      // posix_spawn leaves ignored (only glibc itself ever sends them).
      const status = await r.run(['grep', '-E', '^Sig(Ign|Blk):', '/proc/self/status']);
      const mask = (name: string): bigint => BigInt(`0x${new RegExp(`${name}:\\s*([0-9a-f]+)`).exec(status)![1]}`) & 0x7fffffffn;
      assert.equal(mask('SigBlk'), 0n, status);
      assert.equal(mask('SigIgn'), 0n, status);
    });

    it('survives a child that exits without reading its input', async () => {
      assert.equal(await r.run(['true'], 'x'.repeat(1024 * 1024)), '');
    });

    it('rejects with no exit code when a signal ends the command', async () => {
      const e = await r.run(['sh', '-c', 'kill -9 $$']).catch((x: unknown) => x);
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, null);
    });

    it('rejects with no exit code and ENOENT when the command does not exist', async () => {
      const e = await r.run(['tswarm-no-such-tool', '-V']).catch((x: unknown) => x);
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, null);
      assert.match(e.message, /ENOENT/);
    });

    it('runs many commands at once, each with its own output', async () => {
      const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => r.run(['sh', '-c', `echo ${i}`])));
      assert.deepEqual(outs, Array.from({ length: 40 }, (_, i) => `${i}\n`));
    });

    it('prefixes every command with the runner\'s prefix', async () => {
      assert.equal(await execRunner(['env', 'TSW_X=1'], spawner).run(['sh', '-c', 'echo $TSW_X']), '1\n');
    });
  });
}
