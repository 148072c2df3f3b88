import type { Knex } from 'knex';

/**
 * Identifiers compare as bytes. Under the database's default collation (`utf8mb4_unicode_ci` in the project's
 * MariaDB, `utf8mb4_0900_ai_ci` in MySQL 8) `ORD-1` and `ord-1` were one key, while the Temporal workflow IDs
 * built from them are two: the second order's create answered 409, and an upload holding both never finished
 * the chunk with them (its INSERT met a duplicate key on every retry). Idempotency keys and the provider's
 * charge IDs are case-sensitive too. A binary collation also compares keys without collation weights, which
 * makes inserting an imported chunk's scattered keys cheaper (BENCHMARKS.md).
 *
 * Each ALTER rebuilds its table. Keys unique regardless of case are unique as bytes, so `up` creates no
 * duplicate; `down` refuses while IDs differing only in case exist. A key rotation running across this
 * migration walks later rows in the new order; the rotation's second run (README, "Keys and rotation") covers
 * them. Each step can be run again, so a migration stopped half-way completes on the next start.
 */
const BINARY = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
/** Down: no collation named, so each column takes its table's default again, whatever the server's is. */
const TABLE_DEFAULT = '';
const PAYMENTS_ORDER_FK = 'payments_order_id_foreign';

/** Every identifier column, with its type and nullability. */
const ID_COLUMNS: Record<string, [column: string, type: string, nullability: string][]> = {
  orders: [
    ['order_id', 'VARCHAR(64)', 'NOT NULL'],
    ['customer_id', 'VARCHAR(128)', 'NULL'],
  ],
  payments: [
    ['payment_id', 'VARCHAR(64)', 'NOT NULL'],
    ['order_id', 'VARCHAR(64)', 'NOT NULL'],
    ['idempotency_key', 'VARCHAR(255)', 'NULL'],
  ],
  upload_errors: [['order_id', 'VARCHAR(64)', 'NULL']],
  reconciliation_findings: [
    ['subject', 'VARCHAR(128)', 'NOT NULL'],
    ['payment_id', 'VARCHAR(64)', 'NULL'],
    ['charge_id', 'VARCHAR(64)', 'NULL'],
  ],
};

async function hasPaymentsOrderFk(knex: Knex): Promise<boolean> {
  const [rows] = (await knex.raw(
    `SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'payments' AND CONSTRAINT_NAME = ?`,
    [PAYMENTS_ORDER_FK],
  )) as [unknown[]];
  return rows.length > 0;
}

/** The foreign key would refuse a change of either side's collation on its own: off, collate, on again. */
async function collate(knex: Knex, collation: string): Promise<void> {
  if (await hasPaymentsOrderFk(knex))
    await knex.raw(`ALTER TABLE payments DROP FOREIGN KEY ${PAYMENTS_ORDER_FK}`);
  for (const [table, columns] of Object.entries(ID_COLUMNS)) {
    const changes = columns.map(([column, type, nullability]) =>
      `MODIFY ${column} ${type} ${collation} ${nullability}`.replace(/ +/g, ' '),
    );
    await knex.raw(`ALTER TABLE ${table} ${changes.join(', ')}`);
  }
  if (!(await hasPaymentsOrderFk(knex))) {
    await knex.raw(
      `ALTER TABLE payments ADD CONSTRAINT ${PAYMENTS_ORDER_FK} ` +
        'FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE',
    );
  }
}

export async function up(knex: Knex): Promise<void> {
  // A payment made through a URL that spelled its order's ID in another case stored that spelling, which the
  // foreign key accepted until now: it takes its order's ID as stored, while the comparison still ignores case.
  if (await hasPaymentsOrderFk(knex)) {
    await knex.raw(
      `UPDATE payments p JOIN orders o ON p.order_id = o.order_id
       SET p.order_id = o.order_id WHERE BINARY p.order_id <> BINARY o.order_id`,
    );
  }
  await collate(knex, BINARY);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, column] of [
    ['orders', 'order_id'],
    ['payments', 'payment_id'],
  ] as const) {
    const [clashes] = (await knex.raw(
      `SELECT LOWER(${column}) AS id FROM ${table} GROUP BY LOWER(${column}) HAVING COUNT(*) > 1 LIMIT 1`,
    )) as [{ id: string }[]];
    if (clashes.length > 0) {
      throw new Error(`cannot make ${table}.${column} case-insensitive: IDs differing only in case exist`);
    }
  }
  await collate(knex, TABLE_DEFAULT);
}
