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
  // Parts read by index, not sliced and mapped: an upload parses a timestamp for every row.
  const match = (options.secondsOptional ? SECONDS_OPTIONAL : WITH_SECONDS).exec(text);
  if (!match) return 'malformed';
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6] ?? '0');
  // Checked before Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  if (year < 1000) return 'out_of_range';
  const fraction = match[7] ?? '';
  const offsetHours = Number(match[9] ?? '0');
  const offsetMinutes = Number(match[10] ?? '0');
  if (
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return 'invalid';
  }
  const roundUp = options.subMillisecond === 'round-up' && /[1-9]/.test(fraction.slice(3));
  const millis = (fraction === '' ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3))) + (roundUp ? 1 : 0);
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
  return instant < EARLIEST || instant > LATEST ? 'out_of_range' : instant;
}

/** Days in a month of the Gregorian calendar; 0 for a month that does not exist. */
function daysInMonth(year: number, month: number): number {
  if (month < 1 || month > 12) return 0;
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? 29 : 28;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
