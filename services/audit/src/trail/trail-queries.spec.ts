import { CodedError } from '@countersign/contracts';
import type { AuditRecordEntity } from '../records/audit-record.entity';
import { FORMAT_1_COLUMNS, GENESIS_HASH, linkRecords } from '../records/core/hash-chain';
import { ListRecordsQuery } from './list-records.query';
import { FakeTrailStore } from './trail-store.fake';
import { VerifyChainQuery } from './verify-chain.query';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** `n` correctly linked records (format 1), as the repository would have stored them. */
function chain(n: number, tenantOf: (i: number) => string = () => 'acme'): AuditRecordEntity[] {
  const linked = linkRecords(
    { seq: 0, record_hash: GENESIS_HASH },
    Array.from({ length: n }, (_, i) => ({
      source_topic: 'job.proposed',
      source_event_id: `evt-${i + 1}`,
      event_type: 'job.proposed',
      job_id: `job-${i + 1}`,
      tenant: tenantOf(i + 1),
      recorded_at: new Date(T0 + i * 1000).toISOString(),
      body: `{"n":${i + 1}}`,
    })),
  );
  return linked.map((r) => ({
    ...r,
    recorded_at: new Date(r.recorded_at),
    dedupe_key: `job.proposed:${r.source_event_id}`,
    ...FORMAT_1_COLUMNS,
  }));
}

function setup(records: AuditRecordEntity[]) {
  const store = new FakeTrailStore(3).add(...records);
  return { store, sut: new VerifyChainQuery(store) };
}

describe('VerifyChainQuery', () => {
  it('checks every record of an intact chain, across ranges, up to the head', async () => {
    const { sut } = setup(chain(10));
    expect(await sut.execute()).toEqual({ ok: true, checked: 10, last_seq: 10 });
  });

  it('finds a record whose body was changed after it was hashed', async () => {
    const records = chain(10);
    records[3]!.body = '{"n":400}';
    const { sut } = setup(records);
    expect(await sut.execute()).toMatchObject({ ok: false, broken_seq: 4, reason: 'HASH_MISMATCH' });
  });

  it('finds a deleted record as a gap, wherever the range boundaries fall', async () => {
    for (const missing of [1, 4, 5, 10]) {
      const { sut, store } = setup(chain(12));
      store.records.delete(missing);
      const result = await sut.execute();
      expect(result).toMatchObject({ ok: false, broken_seq: missing });
    }
  });

  it('finds a tail cut off behind the chain head', async () => {
    const { sut, store } = setup(chain(8));
    store.records.delete(8);
    store.records.delete(7);
    expect(await sut.execute()).toMatchObject({ ok: false, broken_seq: 7, reason: 'GAP' });
  });

  it('verifies a middle range from the hash of the record before it', async () => {
    const records = chain(10);
    records[9]!.body = 'tampered after the range';
    const { sut } = setup(records);
    expect(await sut.execute(4, 7)).toEqual({ ok: true, checked: 4, last_seq: 7 });
  });

  it('reports a range starting past the head as empty, and one starting after a missing record as broken', async () => {
    const { sut, store } = setup(chain(5));
    expect(await sut.execute(9)).toEqual({ ok: true, checked: 0, last_seq: 5 });
    store.records.delete(2);
    expect(await sut.execute(3)).toMatchObject({ ok: false, broken_seq: 2, reason: 'GAP' });
  });

  it('refuses a range whose end is below its start, naming the field', async () => {
    const { sut } = setup(chain(3));
    const e = await sut.execute(3, 2).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'to_seq' } });
  });
});

describe('ListRecordsQuery', () => {
  it('pages in seq order with a cursor only while pages are full, within the token tenants', async () => {
    const store = new FakeTrailStore().add(...chain(7, (i) => (i % 2 ? 'acme' : 'globex')));
    const sut = new ListRecordsQuery(store);
    const actor = { tenants: ['acme'] };

    const first = await sut.execute({ limit: 2 }, actor);
    expect(first.items.map((r) => r.seq)).toEqual([1, 3]);
    expect(first.next_cursor).toBe('3');

    const second = await sut.execute({ limit: 2, cursor: first.next_cursor! }, actor);
    expect(second.items.map((r) => r.seq)).toEqual([5, 7]);
    const third = await sut.execute({ limit: 2, cursor: second.next_cursor! }, actor);
    expect(third).toEqual({ items: [], next_cursor: null });

    const all = await sut.execute({ limit: 10 }, { tenants: undefined });
    expect(all.items).toHaveLength(7);
    expect(all.next_cursor).toBeNull();
    expect(all.items[0]).toMatchObject({ seq: 1, prev_hash: GENESIS_HASH, tenant: 'acme' });
  });
});
