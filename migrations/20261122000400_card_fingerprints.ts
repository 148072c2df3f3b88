import type { Knex } from 'knex';

/**
 * Card fingerprints: a keyed HMAC of the card number (`<keyId>:<hex>`, see src/crypto/card-fingerprint.ts),
 * indexed so payments with the same card are found without decrypting card_number_enc. Rows written before
 * this migration have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.string('card_fingerprint', 100).nullable();
    table.index(['card_fingerprint'], 'payments_card_fingerprint_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.dropIndex(['card_fingerprint'], 'payments_card_fingerprint_idx');
    table.dropColumn('card_fingerprint');
  });
}
