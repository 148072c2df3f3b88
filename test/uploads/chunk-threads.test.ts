import { ApplicationFailure } from '@temporalio/common';
import { ChunkImportThreads } from '../../src/activities/uploads/chunk-threads';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { stageCsvLines } from './helpers';
import { testCipher, testFingerprinter } from '../support/orders';

const ORDERS = 60;
const CHUNK_ROWS = 10;

/** Chunks imported on threads with their own connections, on the real MariaDB. */
describe('ChunkImportThreads', () => {
  let database: TestDatabase;
  let threads: ChunkImportThreads;
  const cipher = testCipher();
  const fingerprinter = testFingerprinter();

  beforeAll(async () => {
    database = await createTestDatabase();
    threads = new ChunkImportThreads({ threads: 2, databaseUrl: database.url, cipher, fingerprinter });
  });

  afterAll(async () => {
    await threads?.close();
    await database?.drop();
  });

  it('imports every chunk of an upload, several at once, with cards sealed under the keys it was given', async () => {
    const lines = Array.from(
      { length: ORDERS },
      (_, i) =>
        `T-${i},12.34,USD,COMPLETED,2026-03-01T09:15:00Z,c${i}@example.com,TP-${i},12.34,COMPLETED,CARD,4242424242424242`,
    );
    const staged = await stageCsvLines(database.db, cipher, lines, CHUNK_ROWS);
    expect(staged.chunksTotal).toBe(ORDERS / CHUNK_ROWS);

    const counts = await Promise.all(
      Array.from({ length: staged.chunksTotal }, (_, chunk) =>
        threads.importChunk({ uploadId: staged.uploadId, chunk }),
      ),
    );
    expect(counts).toEqual(Array(staged.chunksTotal).fill({ rowsImported: CHUNK_ROWS, rowsRejected: 0 }));
    const payments = await database
      .db('payments')
      .orderBy('payment_id')
      .select('payment_id', 'card_number_enc');
    expect(payments).toHaveLength(ORDERS);
    // Sealed by the thread, opened here with the same keys: each number bound to its own row.
    const first = payments.find((row) => row.payment_id === 'TP-0')!;
    expect(
      cipher.decrypt(first.card_number_enc, { table: 'payments', column: 'card_number_enc', rowId: 'TP-0' }),
    ).toBe('4242424242424242');
    // Again: the recorded counts, nothing written twice.
    expect(await threads.importChunk({ uploadId: staged.uploadId, chunk: 0 })).toEqual(counts[0]);
    expect(Number((await database.db('payments').count({ n: '*' }).first())?.n)).toBe(ORDERS);
  });

  it('fails a chunk of an unknown upload as not retryable, with its type', async () => {
    const failure = await threads
      .importChunk({ uploadId: 'no-such-upload', chunk: 0 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'UploadNotFound',
      nonRetryable: true,
      message: 'no upload no-such-upload',
    });
  });

  it('starts its threads before any chunk, as the worker does, and closes them though they never imported', async () => {
    const early = new ChunkImportThreads({ threads: 2, databaseUrl: database.url, cipher, fingerprinter });
    early.startThreads();
    early.startThreads();
    expect(early.running).toBe(2);
    await early.close();
    await expect(early.importChunk({ uploadId: 'any', chunk: 0 })).rejects.toThrow(/closed/);
  });

  it('refuses chunks once closed', async () => {
    const closed = new ChunkImportThreads({ threads: 1, databaseUrl: database.url, cipher, fingerprinter });
    await closed.close();
    await expect(closed.importChunk({ uploadId: 'any', chunk: 0 })).rejects.toThrow(/closed/);
  });
});
