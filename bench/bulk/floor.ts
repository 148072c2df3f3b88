/**
 * The database's floor under any import of the file: MariaDB alone writing the rows an upload writes (one
 * order and one card payment per CSV row) into scratch copies of the orders and payments tables, with their
 * indexes and the payment's foreign key. Two connections (one per core) each insert half, 1000-row
 * multi-row INSERTs committed one by one, as a chunk does. Values are ready-made and sized like the real
 * ones (ciphertexts, fingerprints): no parsing, no encryption, no API, no Temporal. The tables are dropped
 * afterwards.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { loadConfig } from '../../src/config';

const ROWS_PER_INSERT = 1000;
const CONNECTIONS = 2;

export interface FloorResult {
  rows: number;
  elapsedS: number;
  connections: number;
}

export async function runFloor(
  rows: number,
  runId: string,
  log: (line: string) => void,
): Promise<FloorResult> {
  const { databaseUrl } = loadConfig();
  const suffix = runId.replace(/[^a-z0-9]/gi, '');
  const orders = `bench_floor_orders_${suffix}`;
  const payments = `bench_floor_payments_${suffix}`;
  const connect = () => createConnection({ uri: databaseUrl, timezone: 'Z' });
  const admin = await connect();
  try {
    await admin.query(`CREATE TABLE \`${orders}\` LIKE orders`);
    await admin.query(`CREATE TABLE \`${payments}\` LIKE payments`);
    await admin.query(
      `ALTER TABLE \`${payments}\` ADD FOREIGN KEY (order_id) REFERENCES \`${orders}\` (order_id) ON DELETE CASCADE`,
    );
    const connections = await Promise.all(Array.from({ length: CONNECTIONS }, connect));
    const started = performance.now();
    try {
      const share = Math.ceil(rows / CONNECTIONS);
      await Promise.all(
        connections.map((connection, index) =>
          insertRange(connection, { orders, payments }, index * share, Math.min(rows, (index + 1) * share)),
        ),
      );
    } finally {
      await Promise.all(connections.map((connection) => connection.end()));
    }
    const elapsedS = (performance.now() - started) / 1000;
    log(`floor: ${rows} orders and ${rows} payments in ${elapsedS.toFixed(1)} s`);
    return { rows, elapsedS, connections: CONNECTIONS };
  } finally {
    await admin.query(`DROP TABLE IF EXISTS \`${payments}\`, \`${orders}\``).catch(() => undefined);
    await admin.end();
  }
}

/** A sealed value of a card number's or an email's size: what the real columns hold. */
const SEALED = `v1:dev1:${'A'.repeat(16)}:${'B'.repeat(60)}`;
const FINGERPRINT = `f1:${'C'.repeat(43)}`;

async function insertRange(
  connection: Connection,
  tables: { orders: string; payments: string },
  from: number,
  to: number,
): Promise<void> {
  const at = new Date(Date.UTC(2026, 2, 1));
  for (let start = from; start < to; start += ROWS_PER_INSERT) {
    const orderRows: unknown[][] = [];
    const paymentRows: unknown[][] = [];
    for (let i = start; i < Math.min(to, start + ROWS_PER_INSERT); i++) {
      orderRows.push([`floor-${i}`, '10.0000', '10.0000', 'USD', 'COMPLETED', SEALED, at, at]);
      paymentRows.push([
        `floor-${i}-p1`,
        `floor-${i}`,
        '10.0000',
        'COMPLETED',
        'CARD',
        'VISA',
        '4242',
        SEALED,
        FINGERPRINT,
        at,
        at,
      ]);
    }
    await connection.beginTransaction();
    await connection.query(
      `INSERT INTO \`${tables.orders}\` (order_id, order_amount, amount_paid, currency, order_status,
        customer_email_enc, created_at, updated_at) VALUES ?`,
      [orderRows],
    );
    await connection.query(
      `INSERT INTO \`${tables.payments}\` (payment_id, order_id, payment_amount, payment_status, payment_method,
        card_brand, card_last4, card_number_enc, card_fingerprint, created_at, updated_at) VALUES ?`,
      [paymentRows],
    );
    await connection.commit();
  }
}
