import { errorOf } from '../support/domain-errors';
import { formatIsoDuration, parseIsoDuration } from '../../src/domain/durations';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseIsoDuration', () => {
  it.each([
    ['P7D', 7 * DAY],
    ['PT36H', 36 * HOUR],
    ['P1DT12H30M', DAY + 12 * HOUR + 30 * MINUTE],
    ['PT0.5S', 500],
    ['PT0.001S', 1],
    ['PT1.25S', 1250],
    ['P2W', 14 * DAY],
    ['P1W2D', 9 * DAY],
    ['PT1M', MINUTE],
    ['PT90M', 90 * MINUTE],
    ['PT1.5H', 90 * MINUTE],
    ['P0.5D', 12 * HOUR],
    ['P0.001W', 604800],
    ['P1DT1H1M1.5S', DAY + HOUR + MINUTE + 1500],
    ['PT0S', 0],
    ['P0D', 0],
    ['PT007M', 7 * MINUTE],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['P1Y', 'P1M', 'P1Y2M3D', 'P0M', 'P1MT1M'])('rejects %s, which has years or months', (text) => {
    expect(errorOf(() => parseIsoDuration(text)).code).toBe('DURATION_AMBIGUOUS_UNIT');
  });

  it('explains why months are rejected', () => {
    expect(errorOf(() => parseIsoDuration('P1M'))).toEqual({
      code: 'DURATION_AMBIGUOUS_UNIT',
      message:
        'duration "P1M" uses months, which have no fixed length; use weeks, days, hours, minutes or seconds',
    });
    expect(errorOf(() => parseIsoDuration('P2Y')).message).toContain('uses years');
  });

  it.each(['P', 'PT'])('rejects %s, which has no components', (text) => {
    expect(errorOf(() => parseIsoDuration(text))).toEqual({
      code: 'DURATION_EMPTY',
      message: `duration "${text}" has no components; write e.g. "P7D", "PT36H" or "P1DT12H30M"`,
    });
  });

  it.each(['-P1D', '-PT1S'])('rejects the negative duration %s', (text) => {
    expect(errorOf(() => parseIsoDuration(text))).toEqual({
      code: 'DURATION_NEGATIVE',
      message: `duration "${text}" is negative; only zero or longer durations are allowed`,
    });
  });

  it.each([
    '',
    '7D',
    'P7',
    'P-1D',
    'P+1D',
    '+P1D',
    'p7d',
    'P7d',
    'P 7D',
    ' P7D',
    'P7D ',
    'PT1H2D',
    'P1D1W',
    'PT1S1M',
    'P1D1D',
    'P1H',
    'PT1D',
    'P1.D',
    'P.5D',
    'PT0,5S',
    'P1E3D',
    'T1H',
  ])('rejects %j as malformed', (text) => {
    expect(errorOf(() => parseIsoDuration(text))).toEqual({
      code: 'DURATION_MALFORMED',
      message: `duration ${JSON.stringify(text)} is not an ISO 8601 duration such as "P7D", "PT36H" or "P1DT12H30M"`,
    });
  });

  it('rejects a "T" with nothing after it', () => {
    expect(errorOf(() => parseIsoDuration('P1DT'))).toEqual({
      code: 'DURATION_MALFORMED',
      message: 'duration "P1DT" has a "T" with no hours, minutes or seconds after it',
    });
  });

  it('allows a fraction only on the last component', () => {
    expect(errorOf(() => parseIsoDuration('PT1.5H30M'))).toEqual({
      code: 'DURATION_MALFORMED',
      message: 'duration "PT1.5H30M" has a fraction before its last component',
    });
    expect(errorOf(() => parseIsoDuration('P0.5DT1H')).code).toBe('DURATION_MALFORMED');
  });

  it('rejects durations finer than a millisecond', () => {
    expect(errorOf(() => parseIsoDuration('PT0.0005S'))).toEqual({
      code: 'DURATION_TOO_PRECISE',
      message: 'duration "PT0.0005S" is not a whole number of milliseconds',
    });
    expect(errorOf(() => parseIsoDuration('PT0.00001M')).code).toBe('DURATION_TOO_PRECISE');
  });

  it('accepts trailing zeros in a fraction', () => {
    expect(parseIsoDuration('PT0.500000000000S')).toBe(500);
  });

  it('rejects durations beyond the exact range', () => {
    expect(parseIsoDuration('PT9007199254740.991S')).toBe(Number.MAX_SAFE_INTEGER);
    expect(errorOf(() => parseIsoDuration('PT9007199254740.992S')).code).toBe('DURATION_TOO_LONG');
    expect(errorOf(() => parseIsoDuration('P99999999999999999D'))).toEqual({
      code: 'DURATION_TOO_LONG',
      message: 'duration "P99999999999999999D" is too long',
    });
  });
});

describe('formatIsoDuration', () => {
  it.each([
    [0, 'PT0S'],
    [1, 'PT0.001S'],
    [500, 'PT0.5S'],
    [1250, 'PT1.25S'],
    [MINUTE, 'PT1M'],
    [36 * HOUR, 'P1DT12H'],
    [7 * DAY, 'P7D'],
    [DAY + 12 * HOUR + 30 * MINUTE, 'P1DT12H30M'],
    [DAY + 1, 'P1DT0.001S'],
    [HOUR + 1000, 'PT1H1S'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatIsoDuration(ms)).toBe(text);
  });

  it.each([0, 1, 999, 61001, 7 * DAY, 123456789012, Number.MAX_SAFE_INTEGER])(
    'round-trips %d ms through parseIsoDuration',
    (ms) => {
      expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('rejects %d ms', (ms) => {
    expect(errorOf(() => formatIsoDuration(ms))).toEqual({
      code: 'DURATION_OUT_OF_RANGE',
      message: `${ms} is not a non-negative whole number of milliseconds`,
    });
  });
});
