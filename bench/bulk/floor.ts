/**
 * The database's floor under any import of the file: MariaDB alone writing the rows an upload writes (one
 * order and one card payment per CSV row) into scratch copies of the orders and payments tables, with their
 * indexes and the payment's foreign key. Two connections (one per core) each insert half, 1000-row
 * multi-row INSERTs committed one by one, as a chunk does. Values are ready-made and sized like the real
 * ones (ciphertexts, fingerprints): no parsing, no encryption, no API, no Temporal. The tables are dropped
 * afterwards.
 *
 * Key order: `file` inserts the rows in the file's order (the ids' numeric order), so each INSERT's keys fall
 * in a few narrow ranges of the primary keys, as an upload's chunks (stretches of the file) do. `hash` groups
 * them by slot (the order id's hash), as uploads chunked by hash did (SLOT_RANGES, src/db/uploads.ts), so each
 * INSERT's keys are spread over the whole of each key.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { loadConfig } from '../../src/config';
import { SLOTS } from '../../src/db/uploads';
import { orderBucket } from '../../src/domain/uploads/group-orders';

const ROWS_PER_INSERT = 1000;
const CONNECTIONS = 2;

const floorOrderId = (n: number) => `floor-${n}`;

/** Which row of the file the floor inserts at each position. */
export interface FloorOrder {
  keyOrder: 'file' | 'hash';
  rowAt: (position: number) => number;
}

export const FILE_ORDER: FloorOrder = { keyOrder: 'file', rowAt: (position) => position };

/** Rows grouped by slot, then in file order. Built before the phase is measured: it takes a second at 1M. */
export function hashKeyOrder(rows: number): FloorOrder {
  const keys = new Float64Array(rows);
  for (let n = 0; n < rows; n++) keys[n] = orderBucket(floorOrderId(n), SLOTS) * rows + n;
  keys.sort();
  const order = Uint32Array.from(keys, (key) => key % rows);
  return { keyOrder: 'hash', rowAt: (position) => order[position]! };
}

export interface FloorResult {
  rows: number;
  elapsedS: number;
  connections: number;
  keyOrder: FloorOrder['keyOrder'];
}

export async function runFloor(
  rows: number,
  runId: string,
  log: (line: string) => void,
  order: FloorOrder,
): Promise<FloorResult> {
  const { databaseUrl } = loadConfig();
  const { keyOrder } = order;
  const suffix = `${runId.replace(/[^a-z0-9]/gi, '')}${keyOrder === 'hash' ? 'h' : ''}`;
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
          insertRange(
            connection,
            { orders, payments },
            index * share,
            Math.min(rows, (index + 1) * share),
            order,
          ),
        ),
      );
    } finally {
      await Promise.all(connections.map((connection) => connection.end()));
    }
    const elapsedS = (performance.now() - started) / 1000;
    log(`floor (${keyOrder} key order): ${rows} orders and ${rows} payments in ${elapsedS.toFixed(1)} s`);
    return { rows, elapsedS, connections: CONNECTIONS, keyOrder };
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
  order: FloorOrder,
): Promise<void> {
  const at = new Date(Date.UTC(2026, 2, 1));
  for (let start = from; start < to; start += ROWS_PER_INSERT) {
    const orderRows: unknown[][] = [];
    const paymentRows: unknown[][] = [];
    for (let position = start; position < Math.min(to, start + ROWS_PER_INSERT); position++) {
      const i = order.rowAt(position);
      orderRows.push([floorOrderId(i), '10.0000', '10.0000', 'USD', 'COMPLETED', SEALED, at, at]);
      paymentRows.push([
        `${floorOrderId(i)}-p1`,
        floorOrderId(i),
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
