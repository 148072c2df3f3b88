/**
 * ISO 8601 durations as elapsed milliseconds, the unit Temporal timers and timeouts use. A day is
 * exactly 24 hours and a week 7 days; years and months have no fixed length, so they are rejected.
 */
import { DomainError } from './errors';

export type DurationErrorCode =
  | 'DURATION_MALFORMED'
  | 'DURATION_EMPTY'
  | 'DURATION_NEGATIVE'
  | 'DURATION_AMBIGUOUS_UNIT'
  | 'DURATION_TOO_PRECISE'
  | 'DURATION_TOO_LONG'
  | 'DURATION_OUT_OF_RANGE';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** In the order ISO 8601 writes them, which is also the order of the capture groups below. */
const COMPONENTS = [
  { name: 'years', ms: undefined },
  { name: 'months', ms: undefined },
  { name: 'weeks', ms: 7 * DAY },
  { name: 'days', ms: DAY },
  { name: 'hours', ms: HOUR },
  { name: 'minutes', ms: MINUTE },
  { name: 'seconds', ms: SECOND },
] as const;

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const ISO_DURATION = new RegExp(
  `^P(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
);
const EXAMPLES = '"P7D", "PT36H" or "P1DT12H30M"';

/**
 * Parses e.g. "P7D", "PT36H", "P1DT12H30M", "PT0.5S" or "P2W" into milliseconds. Only the last
 * component may have a fraction (".", not ","), and the result must be a whole number of milliseconds.
 */
export function parseIsoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  if (text.startsWith('-')) {
    throw durationError(
      'DURATION_NEGATIVE',
      `duration ${quoted} is negative; only zero or longer durations are allowed`,
    );
  }
  const match = ISO_DURATION.exec(text);
  if (!match) {
    throw durationError(
      'DURATION_MALFORMED',
      `duration ${quoted} is not an ISO 8601 duration such as ${EXAMPLES}`,
    );
  }
  const present: { value: string; ms: number }[] = [];
  COMPONENTS.forEach(({ name, ms }, index) => {
    const value = match[index + 1];
    if (value === undefined) return;
    if (ms === undefined) {
      throw durationError(
        'DURATION_AMBIGUOUS_UNIT',
        `duration ${quoted} uses ${name}, which have no fixed length; use weeks, days, hours, minutes or seconds`,
      );
    }
    present.push({ value, ms });
  });
  if (present.length === 0) {
    throw durationError('DURATION_EMPTY', `duration ${quoted} has no components; write e.g. ${EXAMPLES}`);
  }
  if (text.endsWith('T')) {
    throw durationError(
      'DURATION_MALFORMED',
      `duration ${quoted} has a "T" with no hours, minutes or seconds after it`,
    );
  }
  if (present.slice(0, -1).some((component) => component.value.includes('.'))) {
    throw durationError('DURATION_MALFORMED', `duration ${quoted} has a fraction before its last component`);
  }

  // BigInt keeps fractions exact: "0.001" of a week must not pick up binary floating-point error.
  let total = 0n;
  for (const { value, ms } of present) {
    const [whole = '', fraction = ''] = value.split('.');
    const scaled = BigInt(whole + fraction) * BigInt(ms);
    const divisor = 10n ** BigInt(fraction.length);
    if (scaled % divisor !== 0n) {
      throw durationError('DURATION_TOO_PRECISE', `duration ${quoted} is not a whole number of milliseconds`);
    }
    total += scaled / divisor;
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw durationError('DURATION_TOO_LONG', `duration ${quoted} is too long`);
  }
  return Number(total);
}

/** Formats milliseconds with days and time components, e.g. 131_400_000 → "P1DT12H30M", 500 → "PT0.5S". */
export function formatIsoDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw durationError('DURATION_OUT_OF_RANGE', `${ms} is not a non-negative whole number of milliseconds`);
  }
  if (ms === 0) return 'PT0S';
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  const seconds = Math.floor((ms % MINUTE) / SECOND);
  const millis = ms % SECOND;

  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0').replace(/0+$/, '')}`;
  const time =
    (hours ? `${hours}H` : '') +
    (minutes ? `${minutes}M` : '') +
    (seconds || millis ? `${seconds}${fraction}S` : '');
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

function durationError(code: DurationErrorCode, message: string): DomainError {
  return new DomainError(code, message);
}
