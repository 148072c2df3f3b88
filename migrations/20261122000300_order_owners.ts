import type { Knex } from 'knex';

/**
 * The API principal (client) that created an order; NULL for orders imported by a bulk upload, which only
 * operators may act on. Clients read and pay only the orders they own, so their lists filter on it: the
 * index serves that filter in the list's newest-first order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.string('owner_principal', 64).nullable();
    table.index(['owner_principal', 'created_at'], 'orders_owner_created_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.dropIndex(['owner_principal', 'created_at'], 'orders_owner_created_idx');
    table.dropColumn('owner_principal');
  });
}
