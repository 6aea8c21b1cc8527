import { runsOfOneTopic } from './outbox-relay';

describe('runsOfOneTopic', () => {
  it('groups consecutive rows of one topic and keeps the order', () => {
    const rows = ['a', 'a', 'b', 'a', 'a', 'a', 'c'].map((topic, i) => ({ topic, i }));
    const runs = runsOfOneTopic(rows);
    expect(runs.map((r) => r.map((x) => x.i))).toEqual([[0, 1], [2], [3, 4, 5], [6]]);
    expect(runs.flat()).toEqual(rows);
  });

  it('cuts a run before it passes maxBytes of values, so no request is too large for the broker', () => {
    const rows = [400, 400, 300, 900, 10].map((n, i) => ({ topic: 'audit.recorded', value: 'x'.repeat(n), i }));
    expect(runsOfOneTopic(rows, 1000).map((r) => r.map((x) => x.i))).toEqual([[0, 1], [2], [3, 4]]);
    expect(runsOfOneTopic(rows).map((r) => r.length)).toEqual([5]);
  });

  it('gives no runs for no rows', () => {
    expect(runsOfOneTopic([])).toEqual([]);
  });
});
