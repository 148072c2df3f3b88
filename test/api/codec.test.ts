import { Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { createCodecSessions } from '../../src/api/codec/session';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import { createDb, type Db } from '../../src/db/knex';
import { startTestApi, type TestApi } from '../support/api';
import { testDataConverter } from '../support/temporal';

const UI_ORIGIN = 'http://ui.example:8233';
const secret = { card: '4242424242424242', email: 'zoe@example.com', amount: '123.45' };

type JsonPayload = { metadata: Record<string, string>; data: string };

const toJson = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([name, value]) => [
      name,
      Buffer.from(value).toString('base64'),
    ]),
  ),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});
const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata).map(([name, value]) => [name, Buffer.from(value, 'base64')]),
  ),
  data: Buffer.from(payload.data, 'base64'),
});
const metadataText = (payload: JsonPayload, name: string) =>
  Buffer.from(payload.metadata[name] ?? '', 'base64').toString('utf8');

/** The codec server needs neither the database nor Temporal: both are dead addresses here. */
describe('codec server', () => {
  let db: Db;
  let connection: Connection;
  let api: TestApi;

  beforeAll(async () => {
    db = createDb('mysql://nobody:nothing@127.0.0.1:1/none');
    // No retry interceptor: the SDK's retry timer would outlive close() and crash the test process.
    connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    api = await startTestApi({ db, connection }, { DURAPAY_CODEC_CORS_ORIGIN: UI_ORIGIN });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
    await connection?.close();
  });

  function codec(
    operation: 'encode' | 'decode',
    payloads: JsonPayload[],
    headers: Record<string, string> = api.headers('operator'),
  ): Promise<Response> {
    return fetch(`${api.baseUrl}/codec/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify({ payloads }),
    });
  }

  const plainPayloads = () => [toJson(defaultPayloadConverter.toPayload(secret))];

  describe('authentication', () => {
    it.each([
      ['no credentials', {}],
      ['an unknown key', { authorization: 'Bearer unknown-key-000000000000000000' }],
      ['a malformed header', { authorization: 'Basic b3BzOnNlY3JldA==' }],
      ['a forged session cookie', { cookie: 'durapay_codec_session=v1.e30.AAAA' }],
    ])('refuses %s with a 401 problem', async (_name, headers) => {
      for (const operation of ['encode', 'decode'] as const) {
        const response = await codec(operation, plainPayloads(), headers);
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await response.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
    });

    it('refuses a client key with a 403 problem', async () => {
      const response = await codec('decode', plainPayloads(), api.headers('alice'));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ status: 403, title: 'Forbidden' });
    });
  });

  describe('encode and decode', () => {
    it('decodes what it encoded; the encoded payloads are encrypted and name their key', async () => {
      const encodedResponse = await codec('encode', plainPayloads());
      expect(encodedResponse.status).toBe(200);
      const encoded = (await encodedResponse.json()) as { payloads: JsonPayload[] };
      expect(encoded.payloads).toHaveLength(1);
      expect(metadataText(encoded.payloads[0]!, 'encoding')).toBe('binary/encrypted');
      expect(metadataText(encoded.payloads[0]!, 'encryption-key-id')).toBe('test1');
      const bytes = Buffer.from(encoded.payloads[0]!.data, 'base64').toString('latin1');
      for (const clear of Object.values(secret)) expect(bytes).not.toContain(clear);

      const decodedResponse = await codec('decode', encoded.payloads);
      expect(decodedResponse.status).toBe(200);
      const decoded = (await decodedResponse.json()) as { payloads: JsonPayload[] };
      expect(decoded).toEqual({ payloads: plainPayloads() });
      expect(defaultPayloadConverter.fromPayload(fromJson(decoded.payloads[0]!))).toEqual(secret);
    });

    it('decodes what the workers and clients encrypted, and passes unencrypted payloads through', async () => {
      const [sealed] = await testDataConverter.payloadCodecs![0]!.encode([
        defaultPayloadConverter.toPayload(secret),
      ]);
      const response = await codec('decode', [toJson(sealed!), ...plainPayloads()]);
      expect(await response.json()).toEqual({ payloads: [...plainPayloads(), ...plainPayloads()] });
    });

    it('answers a payload it cannot decrypt, or a malformed body, with a problem', async () => {
      const tampered = {
        metadata: { encoding: Buffer.from('binary/encrypted').toString('base64') },
        data: '',
      };
      expect((await codec('decode', [tampered])).status).toBe(422);

      const malformed = await fetch(`${api.baseUrl}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...api.headers('operator') },
        body: JSON.stringify({ payload: [] }),
      });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      fetch(`${api.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-namespace,content-type,authorization',
        },
      });

    it('answers a preflight from the Web UI, without credentials, with exactly its headers and POST', async () => {
      const response = await preflight(UI_ORIGIN);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(response.headers.get('access-control-allow-methods')).toBe('POST');
      expect(response.headers.get('access-control-allow-headers')).toBe(
        'X-Namespace, Content-Type, Authorization',
      );
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('refuses a preflight from any other origin', async () => {
      for (const origin of ['http://evil.example', `${UI_ORIGIN}.evil.example`, 'null']) {
        const response = await preflight(origin);
        expect(response.status).toBe(403);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      }
    });

    it('lets the Web UI read its answers, errors included', async () => {
      const ok = await codec('encode', plainPayloads(), { ...api.headers('operator'), origin: UI_ORIGIN });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(ok.headers.get('vary')).toMatch(/Origin/i);

      const anonymous = await codec('encode', plainPayloads(), { origin: UI_ORIGIN });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    });

    it('refuses requests from other origins, an opaque one included, even with an operator key', async () => {
      for (const origin of ['http://evil.example', 'null']) {
        const response = await codec('decode', plainPayloads(), { ...api.headers('operator'), origin });
        expect(response.status).toBe(403);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
      }
    });
  });

  describe('operator login for the Web UI', () => {
    const login = (key: string) =>
      fetch(`${api.baseUrl}/codec/session`, {
        method: 'POST',
        // As a browser posts the login form: from the API's own origin.
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: api.baseUrl },
        body: new URLSearchParams({ key }).toString(),
      });

    it('serves a login form', async () => {
      const response = await fetch(`${api.baseUrl}/codec/session`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      // Under the API's no-referrer, a browser would post the form with `Origin: null`, which is refused.
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
      const page = await response.text();
      expect(page).toContain('<form method="post" action="/codec/session">');
      expect(page).toContain(`<code>${api.baseUrl}/codec</code>`);
    });

    it('sets a codec-only HttpOnly cookie for an operator key, which the codec endpoints accept', async () => {
      const response = await login(api.keys.operator);
      expect(response.status).toBe(200);
      const cookie = response.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^durapay_codec_session=[^;]+; /);
      const attributes = cookie.split('; ').slice(1);
      expect(attributes).toEqual(
        expect.arrayContaining(['Path=/codec', 'HttpOnly', 'SameSite=Strict', 'Max-Age=14400']),
      );
      expect(attributes).not.toContain('Secure'); // plain http here; added over https
      expect(cookie).not.toContain(api.keys.operator);

      const session = cookie.split(';')[0]!;
      const decoded = await codec('encode', plainPayloads(), { cookie: session, origin: UI_ORIGIN });
      expect(decoded.status).toBe(200);
      expect(decoded.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('accepts a bearer key for login too', async () => {
      const response = await fetch(`${api.baseUrl}/codec/session`, {
        method: 'POST',
        headers: api.headers('operator'),
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('set-cookie')).toMatch(/^durapay_codec_session=/);
    });

    it.each([
      ['an unknown key', 'unknown-key-000000000000000000', 401],
      ['an empty key', '', 401],
      ['a client key', 'test-key-client-alice-000000000', 403],
    ])('refuses %s and sets no cookie', async (_name, key, status) => {
      const response = await login(key);
      expect(response.status).toBe(status);
      expect(response.headers.get('set-cookie')).toBeNull();
    });

    it.each([
      ['another origin', 'http://evil.example'],
      ['an opaque origin (a sandboxed or no-referrer page)', 'null'],
    ])('refuses a login posted from %s', async (_name, origin) => {
      const response = await fetch(`${api.baseUrl}/codec/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ key: api.keys.operator }).toString(),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        detail: `origin ${origin} may not call the codec server`,
      });
      expect(response.headers.get('set-cookie')).toBeNull();
    });
  });
});

describe('codec sessions', () => {
  const ring = parseKeyRing(generateKeySpec('k1'), 'test');
  const sessions = createCodecSessions(ring, 60_000);
  const issuedAt = new Date('2026-01-01T00:00:00Z');
  const later = (ms: number) => new Date(issuedAt.getTime() + ms);
  const { token } = sessions.issue({ id: 'ops', role: 'operator' }, issuedAt);

  it('accepts its own token until it expires', () => {
    expect(sessions.verify(token, later(59_999))).toEqual({ id: 'ops', role: 'operator' });
    expect(sessions.verify(token, later(60_000))).toBeUndefined();
  });

  it('refuses a token with altered claims, or signed under another payload key', () => {
    const [version, , signature] = token.split('.');
    const claims = Buffer.from(JSON.stringify({ sub: 'ops', role: 'operator', exp: 9e15 })).toString(
      'base64url',
    );
    expect(sessions.verify(`${version}.${claims}.${signature}`, later(0))).toBeUndefined();
    const rotated = createCodecSessions(parseKeyRing(generateKeySpec('k2'), 'test'), 60_000);
    expect(rotated.verify(token, later(0))).toBeUndefined();
  });
});
