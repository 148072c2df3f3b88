import { RateLimiter } from '../../../src/api/auth/rate-limit';

describe('RateLimiter (token bucket per caller)', () => {
  let clock: number;
  const limiter = (requests: number, windowMs: number) =>
    new RateLimiter({ requests, windowMs }, () => clock);
  const allowed = (rate: RateLimiter, caller: string, times: number) =>
    Array.from({ length: times }, () => rate.take(caller).allowed);

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('allows a burst of the whole limit, then refuses with the wait until one request is back', () => {
    const rate = limiter(3, 60_000);
    expect(allowed(rate, 'alice', 3)).toEqual([true, true, true]);
    expect(rate.take('alice')).toEqual({ allowed: false, retryAfterMs: 20_000 });
    clock += 5_000;
    expect(rate.take('alice')).toEqual({ allowed: false, retryAfterMs: 15_000 });
  });

  it('refills continuously: one request per window / requests', () => {
    const rate = limiter(10, 1000);
    expect(allowed(rate, 'alice', 11)).toEqual([...Array<boolean>(10).fill(true), false]);
    clock += 99;
    expect(rate.take('alice').allowed).toBe(false);
    clock += 1;
    expect(rate.take('alice').allowed).toBe(true);
    expect(rate.take('alice').allowed).toBe(false);
    clock += 300;
    expect(allowed(rate, 'alice', 4)).toEqual([true, true, true, false]);
  });

  it('never holds more than the limit, however long the caller was idle', () => {
    const rate = limiter(2, 1000);
    rate.take('alice');
    clock += 24 * 3_600_000;
    expect(allowed(rate, 'alice', 3)).toEqual([true, true, false]);
  });

  it('keeps one bucket per caller', () => {
    const rate = limiter(1, 1000);
    expect(rate.take('alice').allowed).toBe(true);
    expect(rate.take('alice').allowed).toBe(false);
    expect(rate.take('bob').allowed).toBe(true);
  });

  it('refused requests take nothing, and a clock stepping back refills nothing', () => {
    const rate = limiter(1, 1000);
    rate.take('alice');
    for (let i = 0; i < 5; i++) rate.take('alice');
    clock += 1000;
    expect(rate.take('alice').allowed).toBe(true);
    clock -= 10_000;
    expect(rate.take('alice')).toEqual({ allowed: false, retryAfterMs: 1000 });
  });
});
