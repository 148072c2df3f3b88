import { Problem } from './problem';

/**
 * A bound on calls waiting on a dependency at once. Past it a caller is refused at once with a 503 and
 * Retry-After, instead of joining a queue that only grows while the dependency is saturated: under overload
 * clients get fast, retryable answers, and the calls already admitted keep their latency.
 */
export function inFlightLimit(max: number, dependency: string, onRefused?: () => void) {
  let inFlight = 0;
  const limited = async <T>(call: () => Promise<T>): Promise<T> => {
    if (inFlight >= max) {
      onRefused?.();
      throw new Problem(
        503,
        'Service Unavailable',
        `${dependency} is busy (in-flight limit ${max} reached); retry later`,
        {},
        { 'Retry-After': '1' },
      );
    }
    inFlight += 1;
    try {
      return await call();
    } finally {
      inFlight -= 1;
    }
  };
  return Object.assign(limited, { inFlight: () => inFlight });
}
