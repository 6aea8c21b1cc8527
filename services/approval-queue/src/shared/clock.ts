/** Time comes in through this, so the rules that depend on it can be tested at any instant. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => new Date() };
