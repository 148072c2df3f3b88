import { inFlightLimit } from '../../../src/api/http/in-flight-limit';
import { Problem } from '../../../src/api/http/problem';

describe('inFlightLimit', () => {
  const deferred = () => {
    let resolve!: (value: string) => void;
    const promise = new Promise<string>((settle) => (resolve = settle));
    return { promise, resolve };
  };

  it('admits up to the limit, refuses the next at once with a retryable 503, and frees slots as calls end', async () => {
    const limited = inFlightLimit(2, 'Temporal');
    const first = deferred();
    const second = deferred();
    const running = [limited(() => first.promise), limited(() => second.promise)];
    const refusal = await limited(() => Promise.resolve('never run')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(Problem);
    expect(refusal).toMatchObject({
      status: 503,
      detail: 'Temporal is busy (in-flight limit 2 reached); retry later',
      headers: { 'Retry-After': '1' },
    });
    first.resolve('one');
    expect(await running[0]).toBe('one');
    expect(await limited(() => Promise.resolve('admitted again'))).toBe('admitted again');
    second.resolve('two');
    expect(await running[1]).toBe('two');
    expect(limited.inFlight()).toBe(0);
  });

  it('frees the slot of a call that fails', async () => {
    const limited = inFlightLimit(1, 'Temporal');
    await expect(limited(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limited.inFlight()).toBe(0);
    expect(await limited(() => Promise.resolve('ok'))).toBe('ok');
  });
});
