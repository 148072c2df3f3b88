import { createLogger } from '../../src/logging/logger';
import { sdkLogger } from '../../src/logging/sdk-logger';
import { REDACTED, redactText } from '../../src/logging/redact';

const VISA = '4242424242424242';
const AMEX = '378282246310005';

describe('redactText', () => {
  it.each([
    [`card ${VISA} declined`, 'card [CARD] declined'],
    ['card 4242 4242 4242 4242 declined', 'card [CARD] declined'],
    [`amex ${AMEX}`, 'amex [CARD]'],
    ['twelve digits 4000 0000 0002', 'twelve digits [CARD]'],
    ['pan=4242424242424242&x=1', 'pan=[CARD]&x=1'],
    ['?number%3D4242424242424242%26x', '?number%3D[CARD]%26x'],
    ['/orders/4242-4242-4242-4242?x=1', '/orders/[CARD]?x=1'],
    ['mail ada.lovelace+orders@example.co.uk now', 'mail [EMAIL] now'],
    ['Authorization: Bearer dpk_abc-DEF_123', 'Authorization: Bearer [REDACTED]'],
    ['key dpk_Zm9vYmFyYmF6cXV4MTIzNDU2 leaked', 'key [API_KEY] leaked'],
    ['DURAPAY_FIELD_KEYS=k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=', 'DURAPAY_FIELD_KEYS=k1:[KEY]'],
    ['{"cvc":"123","expMonth":12}', '{"cvc":"[REDACTED]","expMonth":12}'],
    ['cvv=9876&x=1', 'cvv=[REDACTED]&x=1'],
  ])('redacts %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    'order ORD-2026-000123 paid 125.50 USD',
    'took 1234 ms at 2026-11-22T05:00:00.000Z',
    'upload 0f8c2d9e-4b1a-4c3e-9a7b-5d6e7f8a9b0c line 123456',
    'amount 1234567890.1234',
    // Order and payment IDs with long digit runs stay greppable, Luhn-valid or not.
    'order LC1764824178123-5 paid',
    'order ORD-4242424242424242 paid',
    'payment pay_4242424242424242 settled',
    // A digit run that fails Luhn cannot be a card number: a timestamp in ms, a counter.
    'started at 1764824178124 (epoch ms)',
    'typo 4242424242424241',
  ])('leaves ordinary text alone: %j', (input) => {
    expect(redactText(input)).toBe(input);
  });
});

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, logger: createLogger({ service: 'test' }, { write: (line) => lines.push(line) }) };
  };

  it('hides secret fields whole, at any depth, and scrubs messages, errors and other strings', () => {
    const { lines, logger } = capture();
    logger.child({ requestId: 'r1' }).warn(`charge of ${VISA} failed`, {
      method: { type: 'card', number: VISA, cvc: '123', expMonth: 12 },
      headers: { authorization: 'Bearer dpk_secret', 'user-agent': 'curl/8' },
      customer: { email: 'a@b.example', name: 'Ada' },
      note: `contact a@b.example about ${AMEX}`,
      error: new Error(`gateway refused ${VISA}`),
    });
    const entry = JSON.parse(lines[0]!) as Record<string, any>;
    expect(entry).toMatchObject({
      msg: 'charge of [CARD] failed',
      requestId: 'r1',
      method: { type: 'card', number: REDACTED, cvc: REDACTED, expMonth: 12 },
      headers: { authorization: REDACTED, 'user-agent': 'curl/8' },
      customer: { email: REDACTED, name: 'Ada' },
      note: 'contact [EMAIL] about [CARD]',
      error: { name: 'Error', message: 'gateway refused [CARD]' },
    });
    expect(lines[0]).not.toMatch(/4242|3782|a@b\.example|dpk_secret|"123"/);
  });

  it('writes flat fields and nested ones alike, and a bigint as text instead of throwing', () => {
    const { lines, logger } = capture();
    logger.info('flat', { path: `/orders/${VISA}`, token: 'dpk_x', count: 3n, missing: undefined });
    logger.info('nested', { batch: { rows: 12n, email: 'a@b.example' } });
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { msg: 'flat', path: '/orders/[CARD]', token: REDACTED, count: '3' },
      { msg: 'nested', batch: { rows: '12', email: REDACTED } },
    ]);
    expect(lines[0]).not.toContain('missing');
  });

  it('scrubs the bindings of a child and of the base, and writes only at or above the level', () => {
    const lines: string[] = [];
    const logger = createLogger(
      { service: 'test', contact: 'a@b.example' },
      { level: 'warn', write: (line) => lines.push(line) },
    );
    logger.child({ note: `card ${VISA}`, token: 'dpk_secret' }).info('below the level');
    logger.child({ note: `card ${VISA}`, token: 'dpk_secret' }).warn('order ORD-4242424242424242 held');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      service: 'test',
      contact: '[EMAIL]',
      note: 'card [CARD]',
      token: REDACTED,
      msg: 'order ORD-4242424242424242 held',
    });
  });
});

describe('sdkLogger', () => {
  it('writes the Temporal SDK log lines through the same redaction, at the matching level', () => {
    const lines: string[] = [];
    const logger = sdkLogger(createLogger({ service: 'worker' }, { write: (line) => lines.push(line) }));
    logger.warn('Activity failed', {
      activityType: 'chargePayment',
      error: new Error(`gateway refused card ${VISA} for a@b.example`),
    });
    logger.log('ERROR', 'Workflow failed', { input: { cvc: '123' } });
    logger.trace('noise below the default level');
    expect(lines.map((line) => JSON.parse(line) as Record<string, any>)).toMatchObject([
      {
        level: 'warn',
        msg: 'Activity failed',
        activityType: 'chargePayment',
        error: { message: 'gateway refused card [CARD] for [EMAIL]' },
      },
      { level: 'error', msg: 'Workflow failed', input: { cvc: REDACTED } },
    ]);
  });
});
