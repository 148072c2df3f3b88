import type { Knex } from 'knex';

/**
 * How an upload's rows are split into chunks (src/db/uploads.ts, ChunkLayout). Uploads staged before, and any
 * an API of an earlier release stages while a deploy is under way, keep SLOT_RANGES, the default; the API of
 * this release stages FILE_ORDER.
 */
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('uploads', 'chunk_layout')) return;
  await knex.schema.alterTable('uploads', (table) => {
    table.string('chunk_layout', 16).notNullable().defaultTo('SLOT_RANGES').after('format');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uploads', (table) => {
    table.dropColumn('chunk_layout');
  });
}
