// linearizableView (Raft §6.4 ReadIndex): a read waits for the proposer's read index and
// then for local apply to reach it, so it sees every write committed before it began.
import { strict as assert } from 'node:assert';
import { Store } from '../src/index.js';
import { counterIds, items, QueueProposer, tick } from './helpers.js';

describe('store: linearizable reads', () => {
  it('waits for readIndex, then for apply to reach it', async () => {
    // A leader (which proposes) and a follower that has not yet applied entry 2.
    const proposer = new QueueProposer();
    const leader = new Store({ proposer, tables: [items], newRequestId: counterIds('l') });
    const follower = new Store({ proposer, tables: [items], newRequestId: counterIds('f') });
    proposer.replicas.push(leader);
    const w1 = leader.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 }));
    await tick();
    proposer.commit();
    await w1;
    const w2 = leader.update((tx) => tx.update(items, { id: 'a', name: 'a', value: 2 }, 1));
    await tick();
    proposer.commit();
    await w2;
    follower.apply(1, proposer.log[0]!);

    let done = false;
    const read = follower.linearizableView((tx) => tx.get(items, 'a')!.object.value).then((v) => {
      done = true;
      return v;
    });
    await tick();
    assert.equal(done, false, 'waits for readIndex');
    assert.equal(follower.view((tx) => tx.get(items, 'a')!.object.value), 1, 'a plain view is stale');

    proposer.releaseReads(2);
    await tick();
    assert.equal(done, false, 'waits until entry 2 is applied locally');

    follower.apply(2, proposer.log[1]!);
    assert.equal(await read, 2);
  });

  it('fails waiting reads when the store closes', async () => {
    const proposer = new QueueProposer();
    const store = new Store({ proposer, tables: [items] });
    const read = store.linearizableView((tx) => tx.list(items));
    await tick();
    proposer.releaseReads(5);
    await tick();
    store.close();
    await assert.rejects(read, /store is closed/);
  });
});
