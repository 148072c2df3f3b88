import { Connection } from '@temporalio/client';
import { uploadWorkflowId } from '../../src/workflows/uploads/messages';
import { startTestApi } from '../support/api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const HEADER =
  'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,card_number';

/** `orders` orders of two payments each (two rows per order), their ids prefixed by `prefix`. */
function ordersFile(prefix: string, orders: number): string {
  const lines = [HEADER];
  for (let n = 1; n <= orders; n += 1) {
    const id = `${prefix}-${n}`;
    const base = `${id},30.00,USD,COMPLETED,2026-03-01T09:15:00Z,c${n}@example.com`;
    lines.push(`${base},${id}-P1,10.00,COMPLETED,BANK_TRANSFER,`);
    lines.push(`${base},${id}-P2,20.00,COMPLETED,CARD,4242424242424242`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The upload failure paths on the real stack (dev server, worker, MariaDB): a start that failed heals on
 * the retry, an operator cancels or lists uploads, a duplicate leaves nothing staged, and chunk children
 * are found by their upload's search attribute.
 */
describe('uploads: failure paths and operator controls (real stack)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Small chunks, one at a time: a few hundred orders take long enough to cancel mid-way.
    stack = await startTestStack({ DURAPAY_UPLOAD_CHUNK_ROWS: '4', DURAPAY_UPLOAD_WINDOW: '1' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const operator = () => stack.api.headers('operator');
  const upload = async (baseUrl: string, csv: string) => {
    const response = await fetch(`${baseUrl}/uploads`, {
      method: 'POST',
      headers: { ...operator(), 'content-type': 'text/csv' },
      body: csv,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const view = async (uploadId: string) =>
    (await (
      await fetch(`${stack.api.baseUrl}/uploads/${uploadId}`, { headers: operator() })
    ).json()) as Record<string, any>;
  const finished = (uploadId: string) =>
    eventually(
      () => view(uploadId),
      (v) => v.status !== 'RUNNING',
      120_000,
    );
  const stagedRows = async (uploadId?: string) => {
    const rows = stack.database.db('upload_rows');
    if (uploadId) void rows.where({ upload_id: uploadId });
    return Number((await rows.count({ n: '*' }))[0]!.n);
  };
  const cancel = (uploadId: string) =>
    fetch(`${stack.api.baseUrl}/uploads/${uploadId}/cancel`, { method: 'POST', headers: operator() });

  it('starts the missing workflow when the same file comes again after its start failed', async () => {
    const csv = ordersFile('HEAL', 5);
    // An API whose Temporal is down: the file is staged, the start fails, the client gets a 503.
    const down = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: '1s' }).catch(
      () => undefined,
    );
    const lazy = down ?? Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
    const broken = await startTestApi(
      { db: stack.database.db, connection: lazy, cipher: stack.cipher, fingerprinter: stack.fingerprinter },
      { DURAPAY_UPLOAD_CHUNK_ROWS: '4' },
    );
    try {
      const failed = await upload(broken.baseUrl, csv);
      expect(failed.status).toBe(503);
      expect(failed.body.type).toBeDefined();
    } finally {
      await broken.close();
      await lazy.close().catch(() => undefined);
    }
    const staged = await stack.database.db('uploads').where({ upload_status: 'RUNNING' });
    expect(staged).toHaveLength(1);
    const uploadId = staged[0].upload_id as string;
    await expect(
      stack.env.client.workflow.getHandle(uploadWorkflowId(uploadId)).describe(),
    ).rejects.toThrow();

    const retry = await upload(stack.api.baseUrl, csv);
    expect(retry).toMatchObject({ status: 202, body: { uploadId, duplicate: true, status: 'RUNNING' } });
    expect(await finished(uploadId)).toMatchObject({
      status: 'COMPLETED',
      rowsImported: 10,
      rowsRejected: 0,
    });
    const healed = await stack.database.db('orders').where('order_id', 'like', 'HEAL-%').count({ n: '*' });
    expect(Number(healed[0]!.n)).toBe(5);
  });

  it('cancels a running upload: CANCELLED, children stopped, only whole orders imported and counted', async () => {
    const orders = 400;
    const accepted = await upload(stack.api.baseUrl, ordersFile('CXL', orders));
    expect(accepted.status).toBe(202);
    const { uploadId } = accepted.body as { uploadId: string };
    await eventually(
      () => view(uploadId),
      (v) => v.chunks.completed >= 3,
    );

    const cancelled = await cancel(uploadId);
    expect(cancelled.status).toBe(202);
    expect(await cancelled.json()).toEqual({ uploadId, status: 'RUNNING' });

    const final = await finished(uploadId);
    expect(final.status).toBe('CANCELLED');
    expect(final.finishedAt).not.toBeNull();
    expect(final.rowsImported).toBeLessThan(orders * 2);

    // Exactly the rows in the database: every imported order whole, with both its payments.
    const imported = await stack.database.db('orders').where('order_id', 'like', 'CXL-%').select('order_id');
    const payments = await stack.database
      .db('payments')
      .where('order_id', 'like', 'CXL-%')
      .select('order_id', 'payment_id');
    expect(imported.length).toBeGreaterThanOrEqual(3);
    expect(final.rowsImported).toBe(imported.length * 2);
    expect(payments).toHaveLength(imported.length * 2);
    for (const { order_id: orderId } of imported) {
      expect(
        payments
          .filter((p) => p.order_id === orderId)
          .map((p) => p.payment_id)
          .sort(),
      ).toEqual([`${orderId}-P1`, `${orderId}-P2`]);
    }

    // The workflow ended cancelled, and no chunk child is left running.
    await eventually(
      async () =>
        (await stack.env.client.workflow.getHandle(uploadWorkflowId(uploadId)).describe()).status.name,
      (status) => status === 'CANCELLED',
    );
    await eventually(
      async () => {
        const running: string[] = [];
        for await (const run of stack.env.client.workflow.list({
          query: `UploadId = '${uploadId}' AND ExecutionStatus = 'Running'`,
        }))
          running.push(run.workflowId);
        return running;
      },
      (running) => running.length === 0,
    );

    // Its staged rows are gone; a second cancel is refused, an unknown upload is not found.
    expect(await stagedRows(uploadId)).toBe(0);
    const again = await cancel(uploadId);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { detail: string }).detail).toContain('CANCELLED');
    expect((await cancel('no-such-upload')).status).toBe(404);
  });

  it('finds the chunk children with their parent by the UploadId search attribute', async () => {
    const { body } = await upload(stack.api.baseUrl, ordersFile('SA', 6));
    const uploadId = body.uploadId as string;
    await finished(uploadId);
    // Visibility is eventually consistent: poll until the parent and its three chunks are listed.
    const ids = await eventually(
      async () => {
        const found: string[] = [];
        for await (const run of stack.env.client.workflow.list({ query: `UploadId = '${uploadId}'` }))
          found.push(run.workflowId);
        return found.sort();
      },
      (found) => found.length === 4,
    );
    expect(ids).toEqual(
      [
        uploadWorkflowId(uploadId),
        ...[0, 1, 2].map((n) => `${uploadWorkflowId(uploadId)}:chunk:${n}`),
      ].sort(),
    );
  });

  it('removes a duplicate upload’s staged rows and leaves the first upload as it was', async () => {
    const csv = ordersFile('DUP', 8);
    const first = await upload(stack.api.baseUrl, csv);
    const done = await finished(first.body.uploadId);
    const uploadsBefore = await stack.database.db('uploads').count({ n: '*' });

    const again = await upload(stack.api.baseUrl, csv);
    expect(again).toMatchObject({
      status: 202,
      body: { uploadId: first.body.uploadId, duplicate: true, status: 'COMPLETED' },
    });
    // The first upload's own staged rows go just after it finishes: poll until none is left.
    await eventually(
      () => stagedRows(),
      (n) => n === 0,
    );
    expect(await stack.database.db('uploads').count({ n: '*' })).toEqual(uploadsBefore);
    expect(await view(first.body.uploadId)).toEqual(done);
  });

  it('lists uploads newest first, a page at a time, filtered by status', async () => {
    const all = await stack.database.db('uploads').orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'upload_id', order: 'desc' },
    ]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${stack.api.baseUrl}/uploads?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: operator(),
        })
      ).json()) as { items: { uploadId: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.uploadId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((row) => row.upload_id));

    const cancelled = (await (
      await fetch(`${stack.api.baseUrl}/uploads?status=CANCELLED`, { headers: operator() })
    ).json()) as { items: { status: string; rowsImported: number }[] };
    expect(cancelled.items).toHaveLength(1);
    expect(cancelled.items[0]!.status).toBe('CANCELLED');

    const bad = await fetch(`${stack.api.baseUrl}/uploads?status=DONE&limit=0`, { headers: operator() });
    expect(bad.status).toBe(400);
    const clientCall = await fetch(`${stack.api.baseUrl}/uploads`, { headers: stack.api.headers('alice') });
    expect(clientCall.status).toBe(403);
  });
});
