import { GroupCommitter } from './group-commit';

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('GroupCommitter', () => {
  it('flushes items submitted during a flush together in the next one', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const sut = new GroupCommitter<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate.promise;
      return items.map((i) => i * 10);
    }, 100);
    const first = sut.submit(1);
    const rest = [sut.submit(2), sut.submit(3), sut.submit(4)];
    gate.release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('never flushes more than the batch limit at once', async () => {
    const sizes: number[] = [];
    const gate = deferred();
    const sut = new GroupCommitter<number, number>(async (items) => {
      sizes.push(items.length);
      if (sizes.length === 1) await gate.promise;
      return items;
    }, 2);
    const all = [1, 2, 3, 4, 5, 6].map((i) => sut.submit(i));
    gate.release();
    await Promise.all(all);
    expect(sizes).toEqual([1, 2, 2, 1]);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const gate = deferred();
    let calls = 0;
    const sut = new GroupCommitter<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) await gate.promise;
      if (items.includes(3)) throw new Error('bad item 3');
      return items;
    }, 10);
    const first = sut.submit(1);
    const results = Promise.allSettled([sut.submit(2), sut.submit(3), sut.submit(4)]);
    gate.release();
    expect(await first).toBe(1);
    const settled = await results;
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('bad item 3'));
  });

  it('keeps working after a failure', async () => {
    let fail = true;
    const sut = new GroupCommitter<number, number>(async (items) => {
      if (fail) throw new Error('database down');
      return items;
    }, 10);
    await expect(sut.submit(1)).rejects.toThrow('database down');
    fail = false;
    await expect(sut.submit(2)).resolves.toBe(2);
    expect(sut.pending).toBe(0);
  });

  it('rejects a flush that answers the wrong number of results', async () => {
    const sut = new GroupCommitter<number, number>(async () => [], 10);
    await expect(sut.submit(1)).rejects.toThrow(/0 results for 1 items/);
  });
});
