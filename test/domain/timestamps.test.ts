import { parseTimestamp } from '../../src/domain/timestamps';

const stored = { subMillisecond: 'drop' } as const;
const bound = { subMillisecond: 'round-up', secondsOptional: true } as const;

describe('parseTimestamp', () => {
  it.each([
    ['2026-03-01T09:15:00Z', '2026-03-01T09:15:00.000Z'],
    ['2026-03-01T10:15:00+01:00', '2026-03-01T09:15:00.000Z'],
    ['2026-03-01T04:45:00-04:30', '2026-03-01T09:15:00.000Z'],
    ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2026-03-01T09:15:00.1234999Z', '2026-03-01T09:15:00.123Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(new Date(parseTimestamp(text, stored) as number).toISOString()).toBe(iso);
  });

  it('drops digits below the millisecond for stored values and rounds them up for query bounds', () => {
    expect(parseTimestamp('2026-03-01T09:15:00.0001Z', stored)).toBe(Date.UTC(2026, 2, 1, 9, 15));
    expect(parseTimestamp('2026-03-01T09:15:00.0001Z', bound)).toBe(Date.UTC(2026, 2, 1, 9, 15, 0, 1));
  });

  it('accepts minutes without seconds only when asked to', () => {
    expect(parseTimestamp('2026-03-01T09:15Z', stored)).toBe('malformed');
    expect(parseTimestamp('2026-03-01T09:15Z', bound)).toBe(Date.UTC(2026, 2, 1, 9, 15));
  });

  it.each([
    ['2026-03-01 09:15:00Z', 'malformed'],
    ['2026-03-01T09:15:00', 'malformed'],
    ['2026-02-29T09:15:00Z', 'invalid'],
    ['2026-02-30T10:00:00Z', 'invalid'],
    ['1900-02-29T00:00:00Z', 'invalid'],
    ['2026-04-31T00:00:00Z', 'invalid'],
    ['2026-13-01T00:00:00Z', 'invalid'],
    ['2026-03-01T24:00:00Z', 'invalid'],
    ['2026-03-01T09:15:00+24:00', 'invalid'],
    ['0999-12-31T23:59:59Z', 'out_of_range'],
    ['1000-01-01T00:30:00+01:00', 'out_of_range'],
  ])('refuses %s as %s', (text, problem) => {
    expect(parseTimestamp(text, stored)).toBe(problem);
  });
});
