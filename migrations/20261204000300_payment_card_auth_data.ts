import type { Knex } from 'knex';

/**
 * What a provider needs besides the number to authorise a card: its expiry, and the CVC while the payment
 * awaits its outcome. The CVC is sensitive authentication data (PCI DSS 3.3.2): sealed to its cell like the
 * number, and set to NULL once the payment is COMPLETED or FAILED. Imported payments and rows written before
 * this migration have neither.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.specificType('card_exp_month', 'tinyint unsigned').nullable();
    table.specificType('card_exp_year', 'smallint unsigned').nullable();
    table.string('card_cvc_enc', 255).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.dropColumn('card_cvc_enc');
    table.dropColumn('card_exp_year');
    table.dropColumn('card_exp_month');
  });
}
