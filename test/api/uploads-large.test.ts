import { generateLargeUpload, LARGE_UPLOAD_ORDERS } from '../support/large-upload-file';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Tens of thousands of rows with bad rows scattered through them, through the whole pipeline on MariaDB:
 * exact counts, exact error report, and every good order in the database.
 */
describe('a large upload with scattered bad rows (real stack)', () => {
  let stack: TestStack;
  const file = generateLargeUpload();

  beforeAll(async () => {
    stack = await startTestStack({ DURAPAY_UPLOAD_CHUNK_ROWS: '2000', DURAPAY_UPLOAD_WINDOW: '4' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('imports every good order once and reports exactly the bad rows', async () => {
    const accepted = await fetch(`${stack.api.baseUrl}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...stack.api.headers('operator') },
      body: file.text,
    });
    expect(accepted.status).toBe(202);
    const { uploadId } = (await accepted.json()) as { uploadId: string };

    const view = await eventually(
      async () =>
        (await (
          await fetch(`${stack.api.baseUrl}/uploads/${uploadId}`, { headers: stack.api.headers('operator') })
        ).json()) as any,
      (v) => v.status !== 'RUNNING',
      300_000,
    );
    expect(view).toMatchObject({
      status: 'COMPLETED_WITH_ERRORS',
      rowsTotal: file.rows,
      rowsImported: file.rows - file.rejectedRows,
      rowsRejected: file.rejectedRows,
      // A chunk per 2,000 orders: the split orders' rows at the end of the file join their first row's chunk.
      chunks: { total: LARGE_UPLOAD_ORDERS / 2000, failed: 0 },
    });
    expect(view.errors).toEqual(file.expectedErrors.slice(0, 10));

    const report = await (
      await fetch(`${stack.api.baseUrl}/uploads/${uploadId}/errors`, {
        headers: stack.api.headers('operator'),
      })
    ).text();
    const reported = report.trim().split('\n').slice(1);
    expect(reported).toHaveLength(file.expectedErrors.length);
    expect(reported.map((line) => line.split(',').slice(0, 3).join(','))).toEqual(
      file.expectedErrors.map((error) => `${error.line},${error.orderId},${error.field}`),
    );

    const orders = await stack.database.db('orders').count({ n: '*' }).first();
    expect(Number(orders?.n)).toBe(LARGE_UPLOAD_ORDERS - file.defective);
  });
});
