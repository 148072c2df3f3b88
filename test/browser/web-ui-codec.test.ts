import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import puppeteer, { type Browser, type BrowserContext, type HTTPResponse, type Page } from 'puppeteer-core';
import { ensureChromiumInstalled } from '../../scripts/lib/chromium';
import { SESSION_COOKIE } from '../../src/api/codec/routes';
import { DEFAULT_DATA_DIR } from '../../src/config';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const ARTIFACTS = path.join(DEFAULT_DATA_DIR, 'test-artifacts');
const AMOUNT = '125.50';
const AMOUNT_MINOR_UNITS = 12550;
/** Hang guard for each browser step, generous: a shared two-core machine can be slow for minutes. */
const STEP_TIMEOUT_MS = 180_000;

/**
 * The operator's path in a real browser (Debian's Chromium, the Web UI of `temporal server start-dev`, the
 * real worker and API): an order's payloads stay encrypted in the Web UI until the operator signs in to the
 * API's codec server through its form and sets the UI's codec settings as the README says.
 */
describe('Web UI decoding in a real browser', () => {
  let stack: TestStack;
  let browser: Browser;
  let webUi: NonNullable<TestStack['webUi']>;
  /** The API as the browser reaches it: on the UI's host, so that the session cookie goes along. */
  let apiUrl: string;

  beforeAll(async () => {
    const chromium = await ensureChromiumInstalled((line) => process.stderr.write(`[chromium] ${line}\n`));
    // One after the other, so that whichever started is stopped in afterAll should the other fail.
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      // Chromium refuses to run as root with its sandbox on.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      timeout: STEP_TIMEOUT_MS,
      protocolTimeout: STEP_TIMEOUT_MS,
    });
    stack = await startTestStack({}, { webUi: true });
    webUi = stack.webUi!;
    apiUrl = new URL(webUi.codecEndpoint).origin;
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A fresh browser profile (no cookies, no Web UI settings) and a page in it. */
  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.setViewport({ width: 1400, height: 1000 });
    return { context, page };
  }

  /** The text a user sees, iframes included. */
  const visibleText = async (page: Page) =>
    (
      await Promise.all(
        // A string, as this project's code is compiled without the DOM's types. A frame that navigates
        // away meanwhile has shown nothing yet.
        page
          .frames()
          .map((frame) => frame.evaluate('document.body ? document.body.innerText : ""').catch(() => '')),
      )
    ).join('\n');
  const waitForText = (page: Page, needle: string) =>
    eventually(
      () => visibleText(page),
      (text) => text.includes(needle),
      STEP_TIMEOUT_MS,
    );

  /** Clicks a form's submit button and answers the response to the submission. */
  async function submit(page: Page): Promise<HTTPResponse> {
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    return response!;
  }

  const sessionCookies = async (context: BrowserContext) =>
    (await context.cookies()).filter((cookie) => cookie.name === SESSION_COOKIE);

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${stack.api.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.api.headers('alice') },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  /** An order created and paid in full through the API, as a client does. */
  async function paidOrder(): Promise<string> {
    const orderId = `ORD-${randomUUID()}`;
    const created = await post('/orders', { orderId, amount: AMOUNT, currency: 'USD' });
    expect(created).toMatchObject({ status: 201, body: { amount: AMOUNT } });
    const card = { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' };
    const paid = await post(`/orders/${orderId}/payments?wait=true`, { amount: AMOUNT, method: card });
    expect(paid.body.status).toBe('COMPLETED');
    return orderId;
  }

  it('gives the memo and the summary the amount as the API shows it', async () => {
    const orderId = await paidOrder();
    const description = await stack.env.client.workflow.getHandle(`order:${orderId}`).describe();
    expect(description.memo).toEqual({ currency: 'USD', amount: AMOUNT });
    expect(await description.staticSummary()).toBe(`Order ${orderId}: ${AMOUNT} USD`);
  });

  it('shows an order decoded only after the operator signs in through the form and sets the codec settings', async () => {
    const orderId = await paidOrder();
    const { context, page } = await freshPage();
    const workflowPage = `${webUi.url}/namespaces/default/workflows/order:${orderId}`;
    const decodedInput = `"orderId": "${orderId}"`;
    const decodedAmount = `"amount": ${AMOUNT_MINOR_UNITS}`;
    const codecAnswer = () =>
      page.waitForResponse(
        (response) =>
          response.url().startsWith(`${webUi.codecEndpoint}/decode`) &&
          response.request().method() === 'POST',
      );
    const expectStillEncrypted = async () => {
      await waitForText(page, 'Codec Server could not connect');
      const text = await visibleText(page);
      expect(text).toContain('Input');
      for (const clear of [decodedInput, decodedAmount, AMOUNT]) expect(text).not.toContain(clear);
    };

    // Not signed in: the UI asks the codec server (its cluster-level setting), which refuses.
    const [refused] = await Promise.all([codecAnswer(), page.goto(workflowPage)]);
    expect(refused.status()).toBe(401);
    await expectStillEncrypted();

    // The codec settings the README gives, still without a session: the codec server still refuses.
    await page.click('[data-testid^="data-encoder-status"]');
    await page.click('[data-testid="use-local-endpoint-input"]');
    await page.type('[data-testid="data-encoder-endpoint-input"]', webUi.codecEndpoint);
    await page.click('[data-testid="data-encoder-include-credentials"]');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-codec-settings.png') });
    await page.click('#data-encoder-settings [data-testid="confirm-modal-button"]');
    const [stillRefused] = await Promise.all([codecAnswer(), page.reload()]);
    expect(stillRefused.status()).toBe(401);
    await expectStillEncrypted();

    // Signing in through the form, as a browser submits it.
    await page.goto(`${apiUrl}/codec/session`);
    await page.type('input[name=key]', stack.api.keys.operator);
    const signedIn = await submit(page);
    expect(signedIn.status()).toBe(200);
    await waitForText(page, 'Signed in as ops');
    expect(await sessionCookies(context)).toHaveLength(1);

    // Decoded: the input, the memo and the summary.
    const [decoded] = await Promise.all([codecAnswer(), page.goto(workflowPage)]);
    expect(decoded.status()).toBe(200);
    const overview = await waitForText(page, decodedInput);
    expect(overview).toContain(decodedAmount);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-decoded.png'), fullPage: true });
    await page.click(`xpath/.//*[normalize-space(text())='Memo']`);
    await waitForText(page, `"amount": "${AMOUNT}"`);
    await page.click(`xpath/.//*[normalize-space(text())='User Metadata']`);
    await waitForText(page, `Order ${orderId}: ${AMOUNT} USD`);
  });

  describe('a sign-in posted from another site', () => {
    let site: http.Server;
    let siteUrl: string;

    beforeAll(async () => {
      // Another site (127.0.0.1 is not the API's localhost) with a form that posts a valid operator key.
      site = http.createServer((request, response) => {
        const meta = request.url === '/no-referrer' ? '<meta name="referrer" content="no-referrer">' : '';
        response.setHeader('content-type', 'text/html; charset=utf-8');
        response.end(`<!doctype html><html><head>${meta}</head><body>
<form method="post" action="${apiUrl}/codec/session">
<input name="key" value="${stack.api.keys.operator}"><button type="submit">Win a prize</button>
</form></body></html>`);
      });
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => {
        site?.close(() => resolve());
        site?.closeAllConnections(); // the browser's keep-alive connections
      });
    });

    it.each([
      ['with its own origin', '/', () => siteUrl],
      ['from a no-referrer page (Origin: null)', '/no-referrer', () => 'null'],
    ])('is refused %s, and sets no cookie', async (_name, pagePath, origin) => {
      const { context, page } = await freshPage();
      await page.goto(`${siteUrl}${pagePath}`);
      const response = await submit(page);
      expect(response.status()).toBe(403);
      // The refusal names the Origin the browser sent.
      await waitForText(page, `origin ${origin()} may not call the codec server`);
      expect(await sessionCookies(context)).toEqual([]);
    });
  });
});
