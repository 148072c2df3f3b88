/**
 * RFC 3339 date-times (the common ISO 8601 profile, with a time zone) to epoch milliseconds, within the
 * years a DATETIME column holds. Pure and workflow-safe.
 */
const WITH_SECONDS =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const SECONDS_OPTIONAL =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export type TimestampProblem = 'malformed' | 'invalid' | 'out_of_range';

export interface TimestampOptions {
  /** Accept `2026-03-01T09:15Z` as well as `2026-03-01T09:15:00Z`. */
  secondsOptional?: boolean;
  /**
   * Digits below the millisecond: dropped (a value to store), or rounded up (a query bound, so `>=` and `<`
   * against millisecond rows select exactly what the precise instant would).
   */
  subMillisecond: 'drop' | 'round-up';
}

export function parseTimestamp(text: string, options: TimestampOptions): number | TimestampProblem {
  const match = (options.secondsOptional ? SECONDS_OPTIONAL : WITH_SECONDS).exec(text);
  if (!match) return 'malformed';
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Checked before Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  if (year < 1000) return 'out_of_range';
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  // Day 0 of the next month is the last day of this one.
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number(offsetHours) > 23 ||
    Number(offsetMinutes) > 59
  ) {
    return 'invalid';
  }
  const roundUp = options.subMillisecond === 'round-up' && /[1-9]/.test(fraction.slice(3));
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3)) + (roundUp ? 1 : 0);
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
  return instant < EARLIEST || instant > LATEST ? 'out_of_range' : instant;
}
