import type { Knex } from 'knex';

/**
 * Identifiers compare as bytes. Under the server's collation (utf8mb4_unicode_ci) `ORD-1` and `ord-1` were one
 * key, while the Temporal workflow IDs built from them are two: the second order's create answered 409, and an
 * upload holding both never finished the chunk with them (its INSERT met a duplicate key on every retry).
 * Idempotency keys and the provider's charge IDs are case-sensitive too. A binary collation also compares keys
 * without Unicode weights, which makes inserting an imported chunk's scattered keys cheaper (BENCHMARKS.md).
 *
 * Each ALTER rebuilds its table. Converting can create no duplicate (keys unique regardless of case are unique
 * as bytes); `down` fails if IDs differing only in case exist by then. A key rotation running across this
 * migration walks later rows in the new order; the rotation's second run (README, "Keys") covers them.
 */
const BINARY = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
const UNICODE_CI = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci';

/** Every identifier column, with its type and nullability. */
const ID_COLUMNS: Record<string, [column: string, definition: string][]> = {
  orders: [
    ['order_id', 'VARCHAR(64) NOT NULL'],
    ['customer_id', 'VARCHAR(128) NULL'],
  ],
  payments: [
    ['payment_id', 'VARCHAR(64) NOT NULL'],
    ['order_id', 'VARCHAR(64) NOT NULL'],
    ['idempotency_key', 'VARCHAR(255) NULL'],
  ],
  upload_errors: [['order_id', 'VARCHAR(64) NULL']],
  reconciliation_findings: [
    ['subject', 'VARCHAR(128) NOT NULL'],
    ['payment_id', 'VARCHAR(64) NULL'],
    ['charge_id', 'VARCHAR(64) NULL'],
  ],
};

async function collate(knex: Knex, collation: string): Promise<void> {
  // The foreign key would refuse a change of either side's collation on its own.
  await knex.raw('ALTER TABLE payments DROP FOREIGN KEY payments_order_id_foreign');
  for (const [table, columns] of Object.entries(ID_COLUMNS)) {
    const changes = columns.map(([column, definition]) => {
      const [type, ...rest] = definition.split(' ');
      return `MODIFY ${column} ${type} ${collation} ${rest.join(' ')}`;
    });
    await knex.raw(`ALTER TABLE ${table} ${changes.join(', ')}`);
  }
  await knex.raw(
    'ALTER TABLE payments ADD CONSTRAINT payments_order_id_foreign ' +
      'FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE',
  );
}

export async function up(knex: Knex): Promise<void> {
  await collate(knex, BINARY);
}

export async function down(knex: Knex): Promise<void> {
  await collate(knex, UNICODE_CI);
}
