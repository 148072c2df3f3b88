/** At most `requests` per `windowMs` for each caller, refilled continuously (config.security.rateLimit). */
export interface RateLimit {
  requests: number;
  windowMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * One token bucket per caller, in memory: a full bucket allows a burst of `requests`, then one request per
 * `windowMs / requests`. Callers are the principals of configured API keys (unknown keys are refused before
 * this), so the map stays as small as the key list. Each API instance limits on its own.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly tokensPerMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokensPerMs = limit.requests / limit.windowMs;
  }

  take(caller: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(caller);
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
    const tokens = bucket
      ? Math.min(this.limit.requests, bucket.tokens + elapsed * this.tokensPerMs)
      : this.limit.requests;
    if (tokens >= 1) {
      this.buckets.set(caller, { tokens: tokens - 1, at: now });
      return { allowed: true };
    }
    this.buckets.set(caller, { tokens, at: now });
    return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / this.tokensPerMs) };
  }
}
