import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['2d', 172800],
    ['90m', 5400],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0m', '15', 'm', '1.5h', '1h30m', '-5m', ' 5m', '5M', '10w', '05m'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [30, '30s'],
    [90, '90s'],
    [1800, '30m'],
    [5400, '90m'],
    [14400, '4h'],
    [172800, '2d'],
  ])('%i seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
