import type { Knex } from 'knex';

/**
 * The chunks of an upload that have committed, each with its counts, written in the same transaction as the
 * chunk's orders. So MySQL knows an upload's exact progress while it runs (when the workflow's query cannot
 * answer), and a retried chunk whose first attempt committed answers the recorded counts without redoing it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('upload_chunks', (table) => {
    table
      .string('upload_id', 64)
      .notNullable()
      .references('upload_id')
      .inTable('uploads')
      .onDelete('CASCADE');
    table.integer('chunk_no').notNullable();
    table.integer('rows_imported').notNullable();
    table.integer('rows_rejected').notNullable();
    table.datetime('finished_at', { precision: 3 }).notNullable();
    table.primary(['upload_id', 'chunk_no']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('upload_chunks');
}
