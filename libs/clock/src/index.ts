/**
 * Time comes in through a Clock, so every rule that depends on "now" can be tested at any instant.
 * Services inject it under CLOCK (libs/service-kit's `serviceModule` provides `systemClock`); unit specs use FakeClock.
 */
export interface Clock {
  now(): Date;
}

/** Injection token of the Clock in every service. */
export const CLOCK = Symbol('CLOCK');

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to, for unit specs. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date | string | number = '2026-01-01T00:00:00.000Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date | string | number): this {
    this.current = new Date(at).getTime();
    return this;
  }

  advance(ms: number): this {
    this.current += ms;
    return this;
  }
}
