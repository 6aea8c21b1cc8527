import { FakeClock, systemClock } from './index';

describe('clock', () => {
  it('systemClock reads the wall clock', () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('FakeClock stands still until set or advanced, and hands out copies', () => {
    const clock = new FakeClock('2026-03-01T10:00:00.000Z');
    const first = clock.now();
    first.setFullYear(2000);
    expect(clock.now().toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(clock.advance(1500).now().toISOString()).toBe('2026-03-01T10:00:01.500Z');
    expect(clock.set(new Date('2027-01-01T00:00:00.000Z')).now().toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});
