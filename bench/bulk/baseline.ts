/**
 * The bulk upload's yardstick: the least work an import of the same CSV needs, with no API and no Temporal.
 * One connection; the file stream-parsed as the project read it when issue #12 was filed (baseline-reader.ts), the card column
 * sealed with the project's FieldCipher, then multi-row INSERTs into a scratch table in the same MariaDB,
 * which is dropped afterwards.
 */
import fs from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { loadConfig } from '../../src/config';
import { createFieldCipher } from '../../src/crypto';
import { readBaselineRows } from './baseline-reader';

const ROWS_PER_INSERT = 1000;

export interface BaselineResult {
  rows: number;
  elapsedS: number;
  /** Seconds spent inside INSERT round trips; the rest is reading, parsing and encrypting. */
  insertS: number;
  encryptS: number;
}

export async function runBaseline(
  file: string,
  runId: string,
  log: (line: string) => void,
): Promise<BaselineResult> {
  const config = loadConfig();
  const cipher = createFieldCipher(config, () => undefined);
  const table = `bench_bulk_scratch_${runId.replace(/[^a-z0-9]/gi, '')}`;
  const connection = await createConnection({ uri: config.databaseUrl, timezone: 'Z' });
  try {
    await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
    await connection.query(`CREATE TABLE \`${table}\` (
      order_id VARCHAR(64) PRIMARY KEY,
      order_amount DECIMAL(19,4) NOT NULL,
      currency CHAR(3) NOT NULL,
      order_status VARCHAR(16) NOT NULL,
      created_at VARCHAR(32) NOT NULL,
      customer_email VARCHAR(254) NULL,
      payment_id VARCHAR(64) NULL,
      payment_amount DECIMAL(19,4) NULL,
      payment_status VARCHAR(16) NULL,
      payment_method VARCHAR(16) NULL,
      card_number_enc VARCHAR(1024) NULL
    ) ENGINE=InnoDB`);
    const started = performance.now();
    let rows = 0;
    let insertMs = 0;
    let encryptMs = 0;
    let batch: unknown[][] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const at = performance.now();
      await connection.query(`INSERT INTO \`${table}\` VALUES ?`, [batch]);
      insertMs += performance.now() - at;
      batch = [];
    };
    let nextLog = performance.now() + 10_000;
    for await (const f of readBaselineRows(fs.createReadStream(file, { highWaterMark: 256 * 1024 }))) {
      const at = performance.now();
      const card =
        f.card_number === ''
          ? null
          : cipher.encrypt(f.card_number, { table, column: 'card_number_enc', rowId: f.payment_id });
      encryptMs += performance.now() - at;
      batch.push([
        f.order_id,
        f.order_amount,
        f.currency,
        f.order_status,
        f.created_at,
        f.customer_email || null,
        f.payment_id || null,
        f.payment_amount || null,
        f.payment_status || null,
        f.payment_method || null,
        card,
      ]);
      rows++;
      if (batch.length === ROWS_PER_INSERT) await flush();
      if (performance.now() > nextLog) {
        log(`baseline: ${rows} rows`);
        nextLog += 10_000;
      }
    }
    await flush();
    return {
      rows,
      elapsedS: (performance.now() - started) / 1000,
      insertS: insertMs / 1000,
      encryptS: encryptMs / 1000,
    };
  } finally {
    await connection.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => undefined);
    await connection.end();
  }
}
