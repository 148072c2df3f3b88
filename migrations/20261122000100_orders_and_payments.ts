import type { Knex } from 'knex';

/**
 * Orders and their payments: the read model that API GETs and bulk exports use.
 * Money is DECIMAL(19,4) in the currency's major unit (exact; enough places for every ISO 4217 currency).
 * Columns ending in `_enc` hold FieldCipher ciphertexts, never clear text.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (table) => {
    table.string('order_id', 64).primary();
    table.decimal('order_amount', 19, 4).notNullable();
    table.decimal('amount_paid', 19, 4).notNullable().defaultTo(0);
    table.specificType('currency', 'char(3)').notNullable();
    table.string('order_status', 16).notNullable();
    table.string('customer_id', 128).nullable();
    table.string('customer_email_enc', 1024).nullable();
    table.string('customer_name_enc', 1024).nullable();
    table.datetime('payment_deadline', { precision: 3 }).nullable();
    // SHA-256 of the canonical create request: a retry with the same body is the same order, another body is a conflict.
    table.specificType('request_hash', 'char(64)').nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['order_status', 'created_at'], 'orders_status_created_idx');
    table.index(['customer_id'], 'orders_customer_idx');
  });
  // The database refuses what the workflow must never do: pay more than the total, or carry a bogus status.
  await knex.raw(`ALTER TABLE orders
    ADD CONSTRAINT orders_amount_positive CHECK (order_amount > 0),
    ADD CONSTRAINT orders_paid_within_total CHECK (amount_paid >= 0 AND amount_paid <= order_amount),
    ADD CONSTRAINT orders_status_known CHECK (order_status IN ('PENDING', 'COMPLETED', 'CANCELLED', 'EXPIRED'))`);

  await knex.schema.createTable('payments', (table) => {
    table.string('payment_id', 64).primary();
    table.string('order_id', 64).notNullable().references('order_id').inTable('orders').onDelete('CASCADE');
    table.decimal('payment_amount', 19, 4).notNullable();
    table.string('payment_status', 16).notNullable();
    table.string('payment_method', 32).notNullable();
    table.string('card_brand', 16).nullable();
    table.specificType('card_last4', 'char(4)').nullable();
    table.string('card_number_enc', 255).nullable();
    table.string('failure_reason', 255).nullable();
    // Idempotency-Key of the request that created the payment, scoped to its order, and the body it came with.
    table.string('idempotency_key', 255).nullable();
    table.specificType('request_hash', 'char(64)').nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['order_id', 'created_at'], 'payments_order_created_idx');
    table.unique(['order_id', 'idempotency_key'], { indexName: 'payments_idempotency_key_uq' });
  });
  await knex.raw(`ALTER TABLE payments
    ADD CONSTRAINT payments_amount_positive CHECK (payment_amount > 0),
    ADD CONSTRAINT payments_status_known CHECK (payment_status IN ('PENDING', 'COMPLETED', 'FAILED'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('payments');
  await knex.schema.dropTable('orders');
}
