import { AppendRecordsUseCase, type AppendStore } from './append-records.use-case';
import type { AppendResult, EntryToAppend } from './audit-record.repository';
import { FakeClock } from '@countersign/clock';

const settings = { appendBatchMax: 10 };

const entry = (key: string): EntryToAppend => ({
  dedupe_key: key,
  source_topic: 'job.proposed',
  source_event_id: key,
  event_type: 'job.proposed',
  job_id: 'job-1',
  tenant: 'acme',
  body: '{}',
  kind: 'event',
  digest: '0'.repeat(64),
  signature: 'unsigned',
  signature_reason: null,
  redaction: null,
  conflict: null,
});

/** A strict fake: records what it was asked and answers like the repository (dedupe by key). */
class FakeStore implements AppendStore {
  readonly calls: { keys: string[]; now: Date }[] = [];
  private readonly seqByKey = new Map<string, number>();

  async append(entries: readonly EntryToAppend[], now: Date): Promise<AppendResult[]> {
    this.calls.push({ keys: entries.map((e) => e.dedupe_key), now });
    await Promise.resolve();
    return entries.map((e) => {
      const existing = this.seqByKey.get(e.dedupe_key);
      if (existing) return { seq: existing, record_hash: 'h', duplicate: true };
      const seq = this.seqByKey.size + 1;
      this.seqByKey.set(e.dedupe_key, seq);
      return { seq, record_hash: 'h', duplicate: false };
    });
  }
}

describe('AppendRecordsUseCase', () => {
  const now = new Date('2026-11-24T10:00:00.000Z');

  it('appends through the store with the clock time', async () => {
    const store = new FakeStore();
    const sut = new AppendRecordsUseCase(store, settings, new FakeClock(now));
    await expect(sut.execute(entry('a'))).resolves.toEqual({ seq: 1, record_hash: 'h', duplicate: false });
    expect(store.calls).toEqual([{ keys: ['a'], now }]);
  });

  it('commits concurrent entries in shared batches and answers a redelivery as a duplicate', async () => {
    const store = new FakeStore();
    const sut = new AppendRecordsUseCase(store, settings, new FakeClock(now));
    const results = await Promise.all(['a', 'b', 'c', 'a'].map((k) => sut.execute(entry(k))));
    expect(results.map((r) => [r.seq, r.duplicate])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [1, true],
    ]);
    expect(store.calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c', 'a']]);
  });
});
