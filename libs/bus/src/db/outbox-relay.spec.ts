import { runsOfOneTopic } from './outbox-relay';

describe('runsOfOneTopic', () => {
  it('groups consecutive rows of one topic and keeps the order', () => {
    const rows = ['a', 'a', 'b', 'a', 'a', 'a', 'c'].map((topic, i) => ({ topic, i }));
    const runs = runsOfOneTopic(rows);
    expect(runs.map((r) => r.map((x) => x.i))).toEqual([[0, 1], [2], [3, 4, 5], [6]]);
    expect(runs.flat()).toEqual(rows);
  });

  it('gives no runs for no rows', () => {
    expect(runsOfOneTopic([])).toEqual([]);
  });
});
