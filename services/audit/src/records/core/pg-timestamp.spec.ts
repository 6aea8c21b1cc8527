import { isoFromPgUtc } from './pg-timestamp';

describe('isoFromPgUtc', () => {
  it.each([
    ['2026-11-24 10:00:00+00', '2026-11-24T10:00:00.000Z'],
    ['2026-11-24 10:00:00.1+00', '2026-11-24T10:00:00.100Z'],
    ['2026-11-24 10:00:00.12+00', '2026-11-24T10:00:00.120Z'],
    ['2026-11-24 10:00:00.123+00', '2026-11-24T10:00:00.123Z'],
  ])('reads %s as %s', (pg, iso) => {
    expect(isoFromPgUtc(pg)).toBe(iso);
    expect(new Date(iso).toISOString()).toBe(iso);
  });

  it.each(['2026-11-24 10:00:00.1234+00', '2026-11-24 11:00:00+01', '2026-11-24T10:00:00Z', ''])(
    'leaves %s as stored, so it cannot hash like a valid time',
    (pg) => {
      expect(isoFromPgUtc(pg)).toBe(pg);
    },
  );
});
