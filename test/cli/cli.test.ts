import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { newOrderRow, ORDERS } from '../../src/db/orders';
import { TEST_API_KEYS, type TestCaller } from '../support/api';
import { startTestStack, type TestStack } from '../support/stack';

const BIN = path.resolve(__dirname, '../../bin/durapay.js');
const FIXTURE_CSV = path.resolve(__dirname, 'fixtures/orders.csv');
const FIXTURE_XML = path.resolve(__dirname, 'fixtures/orders.xml');
const CARD = ['--card', '4242424242424242', '--exp', '12/2030', '--cvc', '123'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The tests run in order on one stack and build on each other: the exports find what the tests before them made.
describe('the durapay CLI, run as a process against the real stack', () => {
  let stack: TestStack;
  let scratch: string;

  beforeAll(async () => {
    stack = await startTestStack({ DURAPAY_UPLOAD_CHUNK_ROWS: '3', DURAPAY_UPLOAD_WINDOW: '2' });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-cli-'));
  });

  afterAll(async () => {
    await stack?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** The CLI with DURAPAY_URL pointing at the test API and DURAPAY_KEY the key of `as`. */
  const durapay = (args: string[], as: TestCaller | null, env: Record<string, string> = {}) =>
    runProcess(process.execPath, [BIN, ...args], {
      ...cleanEnv(),
      DURAPAY_URL: stack.api.baseUrl,
      ...(as ? { DURAPAY_KEY: TEST_API_KEYS[as] } : {}),
      ...env,
    });
  const json = (run: Run) => {
    expect(run).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(run.stdout);
  };

  it('creates, reads, lists, pays and cancels orders, with --json', async () => {
    const created = json(
      await durapay(
        [
          '--json',
          'orders',
          'create',
          '--id',
          'CLI-1',
          '--amount',
          '125.50',
          '--currency',
          'USD',
          '--customer',
          'c-42',
        ],
        'alice',
      ),
    );
    expect(created).toMatchObject({
      orderId: 'CLI-1',
      status: 'PENDING',
      amount: '125.50',
      amountDue: '125.50',
      customer: { id: 'c-42' },
    });

    const paid = await durapay(
      ['--json', 'orders', 'pay', 'CLI-1', '--amount', '25.50', ...CARD, '--wait'],
      'alice',
    );
    expect(json(paid)).toMatchObject({
      orderId: 'CLI-1',
      amount: '25.50',
      status: 'COMPLETED',
      method: { type: 'card', brand: 'visa', last4: '4242' },
    });

    // A decline is an outcome, not an error: printed, with its own exit status.
    const declined = await durapay(
      [
        '--json',
        'orders',
        'pay',
        'CLI-1',
        '--amount',
        '100.00',
        '--card',
        '4000000000000002',
        '--exp',
        '12/2030',
        '--cvc',
        '123',
        '--wait',
      ],
      'operator',
    );
    expect(declined.code).toBe(2);
    expect(JSON.parse(declined.stdout)).toMatchObject({ status: 'FAILED', failureReason: 'card_declined' });

    const order = json(await durapay(['--json', 'orders', 'get', 'CLI-1'], 'operator'));
    expect(order).toMatchObject({ status: 'PENDING', amountPaid: '25.50', amountDue: '100.00' });
    expect(order.payments.map((payment: any) => payment.status).sort()).toEqual(['COMPLETED', 'FAILED']);

    const listed = json(await durapay(['--json', 'orders', 'list', '--status', 'PENDING'], 'alice'));
    expect(listed.items.map((item: any) => item.orderId)).toContain('CLI-1');

    const cancelled = json(await durapay(['--json', 'orders', 'cancel', 'CLI-1', '--wait'], 'alice'));
    expect(cancelled).toEqual({ orderId: 'CLI-1', status: 'CANCELLED' });

    // Plain lines off a terminal: readable, no escape sequences.
    const plain = await durapay(['orders', 'get', 'CLI-1'], 'operator');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('order CLI-1: CANCELLED');
    expect(plain.stdout).toContain('amount 125.50 USD, paid 25.50, due 100.00');
    expect(plain.stdout + plain.stderr).not.toContain('\u001b');
  });

  it("prints the API's problem detail and status on stderr and exits 1 when the API refuses", async () => {
    const body = { orderId: 'CLI-BAD', amount: '12.345', currency: 'USD' };
    const direct = await fetch(`${stack.api.baseUrl}/orders`, {
      method: 'POST',
      headers: { ...stack.api.headers('alice'), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(direct.status).toBe(422);
    const { detail } = (await direct.json()) as { detail: string };

    const run = await durapay(
      ['orders', 'create', '--id', body.orderId, '--amount', body.amount, '--currency', 'USD'],
      'alice',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('422');
    expect(run.stderr).toContain(detail);

    const missing = await durapay(['--json', 'orders', 'get', 'NO-SUCH-ORDER'], 'operator');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({
      error: expect.stringContaining('404'),
      status: 404,
      title: 'Not Found',
      detail: expect.stringContaining('NO-SUCH-ORDER'),
    });
  });

  it('names DURAPAY_URL when nothing answers there', async () => {
    const run = await durapay(['orders', 'list'], 'operator', { DURAPAY_URL: 'http://127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach the durapay API at http://127.0.0.1:1');
    expect(run.stderr).toContain('DURAPAY_URL');
  });

  it('without DURAPAY_KEY, uses the development client key to create orders and the operator key to upload', async () => {
    const dataDir = path.join(scratch, 'data');
    fs.mkdirSync(dataDir);
    // The file the API writes in development: key:role:principal, operator first.
    fs.writeFileSync(
      path.join(dataDir, 'durapay_api_keys.dev'),
      `${TEST_API_KEYS.operator}:operator:ops,${TEST_API_KEYS.alice}:client:alice`,
    );
    const env = { DURAPAY_DATA_DIR: dataDir };
    const created = await durapay(
      ['--json', 'orders', 'create', '--id', 'CLI-DEV', '--amount', '5.00', '--currency', 'EUR'],
      null,
      env,
    );
    expect(json(created)).toMatchObject({ orderId: 'CLI-DEV', status: 'PENDING' });
    // Only operators may upload; a client key would be refused with 403.
    const missing = await durapay(['uploads', 'get', 'NO-SUCH-UPLOAD'], null, env);
    expect(missing.stderr).toContain('404');

    const nowhere = await durapay(['orders', 'list'], null, {
      DURAPAY_DATA_DIR: path.join(scratch, 'empty'),
    });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('DURAPAY_KEY is not set');
  });

  it('uploads a CSV file, waits for the import and summarises it with the first errors', async () => {
    const run = await durapay(['upload', FIXTURE_CSV, '--wait'], 'operator');
    // One row has a card number that fails the Luhn check: its order is rejected, the rest imported.
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^upload \S+: COMPLETED_WITH_ERRORS/);
    expect(run.stdout).toContain('rows: 7 imported, 1 rejected, 8 in the file');
    expect(run.stdout).toContain('chunks: 3 completed, 0 failed, 3 in all');
    expect(run.stdout).toMatch(/line 9 \(order ORD-1006\): card_number: /);
    const uploadId = /^upload (\S+):/.exec(run.stdout)![1]!;
    expect(run.stdout).toContain(`durapay uploads errors ${uploadId} -o errors.csv`);
    expect(run.stdout + run.stderr).not.toContain('\u001b');

    const again = json(await durapay(['--json', 'uploads', 'get', uploadId], 'operator'));
    expect(again).toMatchObject({
      uploadId,
      status: 'COMPLETED_WITH_ERRORS',
      rowsImported: 7,
      rowsRejected: 1,
    });

    const report = path.join(scratch, 'errors.csv');
    const errors = await durapay(['uploads', 'errors', uploadId, '-o', report], 'operator');
    expect(errors).toMatchObject({ code: 0, stdout: `1 rejected rows written to ${report}\n` });
    const records: Record<string, string>[] = parse(fs.readFileSync(report), { columns: true });
    expect(records).toEqual([
      expect.objectContaining({ line: '9', order_id: 'ORD-1006', field: 'card_number' }),
    ]);

    const imported = json(await durapay(['--json', 'orders', 'get', 'ORD-1002'], 'operator'));
    expect(imported).toMatchObject({ status: 'PENDING', amountPaid: '100.00' });
  });

  it('uploads an XML file without waiting, then follows it to the end', async () => {
    const accepted = json(await durapay(['--json', 'upload', FIXTURE_XML], 'operator'));
    expect(accepted).toMatchObject({ uploadId: expect.any(String), duplicate: false });
    const final = json(await durapay(['--json', 'uploads', 'get', accepted.uploadId, '--wait'], 'operator'));
    expect(final).toMatchObject({
      uploadId: accepted.uploadId,
      status: 'COMPLETED',
      format: 'xml',
      rowsRejected: 0,
    });
  });

  it('stops sending a file the API refuses for its size, and prints why', async () => {
    const small = await stack.startApi({ DURAPAY_MAX_UPLOAD: '1kb' });
    try {
      const file = path.join(scratch, 'big.csv');
      const header = fs.readFileSync(FIXTURE_CSV, 'utf8').split('\n')[0];
      const rows = Array.from(
        { length: 20_000 },
        (_, i) => `BIG-${i},10.00,USD,PENDING,2026-03-05T10:00:00Z,,,,,,`,
      );
      fs.writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
      const run = await durapay(['upload', file, '--wait'], 'operator', { DURAPAY_URL: small.baseUrl });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/durapay: the API answered 413 .*: /);
    } finally {
      await small.close();
    }
  });

  it('lists uploads newest first, filtered by status', async () => {
    const all = json(await durapay(['--json', 'uploads', 'list'], 'operator'));
    const formats = all.items.map((upload: { format: string }) => upload.format);
    // The XML upload came after the CSV one; the refused one was never staged.
    expect(formats.indexOf('xml')).toBeLessThan(formats.indexOf('csv'));
    const completed = json(await durapay(['--json', 'uploads', 'list', '--status', 'COMPLETED'], 'operator'));
    expect(completed.items.length).toBeGreaterThan(0);
    expect(completed.items.every((upload: { status: string }) => upload.status === 'COMPLETED')).toBe(true);
    const plain = await durapay(['uploads', 'list', '--limit', '1'], 'operator');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\S+ {2}COMPLETED {2}xml {2}/);
    expect(plain.stdout).toMatch(/more: --cursor \S+/);
  });

  it('shows a live progress bar on a terminal', async () => {
    const file = path.join(scratch, 'tty.csv');
    const header = fs.readFileSync(FIXTURE_CSV, 'utf8').split('\n')[0];
    const rows = Array.from(
      { length: 30 },
      (_, i) => `TTY-${i},10.00,USD,PENDING,2026-03-05T10:00:00Z,t${i}@example.com,,,,,`,
    );
    fs.writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
    const command = [process.execPath, BIN, 'upload', file, '--wait'].map((arg) => `'${arg}'`).join(' ');
    // `script` gives the CLI a pseudo-terminal, as a person's shell would.
    const run = await runProcess('script', ['-qec', command, '/dev/null'], {
      ...cleanEnv(),
      DURAPAY_URL: stack.api.baseUrl,
      DURAPAY_KEY: TEST_API_KEYS.operator,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\u001b[');
    expect(run.stdout).toMatch(/importing [█░]+ 100% \| 30\/30 rows \| chunks 10\/10 \| \d+ rows\/s/);
    expect(run.stdout).toMatch(/upload \S+: COMPLETED/);
  });

  it('exports to a file that is a valid CSV with the orders', async () => {
    const file = path.join(scratch, 'export.csv');
    const run = await durapay(
      ['export', '--format', 'csv', '-o', file, '--from', '2021-01-01T00:00:00Z'],
      'operator',
    );
    expect(run.code).toBe(0);
    const records: Record<string, string>[] = parse(fs.readFileSync(file), { columns: true });
    expect(run.stdout).toMatch(
      new RegExp(`^exported ${records.length} rows \\(\\d+\\.\\d [kM]B\\) to ${file}`),
    );
    expect(Object.keys(records[0]!)).toEqual([
      'order_id',
      'order_amount',
      'currency',
      'order_status',
      'created_at',
      'customer_email',
      'payment_id',
      'payment_amount',
      'payment_status',
      'payment_method',
      'card_brand',
      'card_last4',
    ]);
    expect(records.filter((record) => record.order_id === 'CLI-1')).toEqual([
      expect.objectContaining({
        order_amount: '125.50',
        order_status: 'CANCELLED',
        payment_status: 'COMPLETED',
        card_last4: '4242',
      }),
      expect.objectContaining({ payment_status: 'FAILED', card_last4: '0002' }),
    ]);
    expect(records.map((record) => record.order_id)).toEqual(
      expect.arrayContaining(['ORD-1001', 'ORD-1005', 'TTY-29']),
    );

    const nowhere = await durapay(
      ['export', '--format', 'csv', '-o', path.join(scratch, 'no-dir', 'x.csv')],
      'operator',
    );
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('ENOENT');
    expect(nowhere.stderr).not.toContain('cut off');

    const xmlFile = path.join(scratch, 'export.xml');
    const xml = json(
      await durapay(
        ['--json', 'export', '--format', 'xml', '-o', xmlFile, '--status', 'CANCELLED'],
        'operator',
      ),
    );
    expect(xml).toMatchObject({ file: xmlFile, rows: 1 });
    expect(fs.readFileSync(xmlFile, 'utf8')).toMatch(/<order id="CLI-1"[\s\S]*<\/orders>\n?$/);
  });

  it('exits 1 and leaves no file when the export is cut off mid-stream', async () => {
    const { db } = stack.database;
    // Orders from 2020, apart from the others; one of them has an email sealed for another row, which
    // fails to decrypt once the first thousand rows are out.
    const orders = Array.from({ length: 1500 }, (_, i) => ({
      ...newOrderRow(
        {
          orderId: `OLD-${String(i).padStart(4, '0')}`,
          amount: 1000,
          currency: 'USD',
          customer: { email: `old${i}@example.com` },
        },
        stack.cipher,
        new Date(Date.UTC(2020, 0, 1, 0, 0, i)),
      ),
      amount_paid: '0',
    }));
    await db(ORDERS).insert(orders);
    await db(ORDERS)
      .where({ order_id: 'OLD-1400' })
      .update({ customer_email_enc: orders[0]!.customer_email_enc });

    const file = path.join(scratch, 'cut.csv');
    const run = await durapay(
      ['export', '--format', 'csv', '-o', file, '--to', '2021-01-01T00:00:00Z'],
      'operator',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the download was cut off after \d+ rows/);
    expect(run.stderr).toContain(`nothing was written to ${file}`);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.part`)).toBe(false);
  });

  it('simulates customers and reports statuses, latencies and nothing unexpected', async () => {
    const run = await durapay(['--json', 'simulate', '--orders', '10', '--concurrency', '3'], 'alice');
    const summary = json(run);
    // Six scenarios in turn: one of them ends cancelled, one declined and one short of funds before a retry.
    expect(summary).toMatchObject({
      orders: 10,
      concurrency: 3,
      orderStatuses: { COMPLETED: 9, CANCELLED: 1 },
      failureReasons: { card_declined: 2, insufficient_funds: 1 },
      unexpected: [],
    });
    expect(summary.httpStatuses['422']).toBe(1);
    expect(Object.keys(summary.httpStatuses).filter((status) => Number(status) >= 500)).toEqual([]);
    expect(summary.latencyMs['POST /orders']).toMatchObject({ count: 10 });
    expect(summary.latencyMs['POST /orders/:orderId/payments?wait=true'].count).toBeGreaterThanOrEqual(17);
  });
});

/** The test process's environment without the CLI's own variables, so only what a test passes counts. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('DURAPAY_')) env[name] = value;
  }
  return env;
}

function runProcess(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
