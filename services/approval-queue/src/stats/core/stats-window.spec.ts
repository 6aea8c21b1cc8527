import { parseWindow } from './stats-window';

describe('parseWindow', () => {
  it.each([
    ['30s', 30],
    ['90m', 5400],
    ['24h', 86400],
    ['7d', 604800],
    ['366d', 366 * 86400],
  ])('%s is %i seconds', (w, s) => expect(parseWindow(w)).toBe(s));

  it.each(['', '7', 'd', '0d', '367d', '1w', '-1d', '1.5h', '7 d'])('refuses %j', (w) =>
    expect(parseWindow(w)).toBeNull(),
  );
});
