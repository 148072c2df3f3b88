import type { Knex } from 'knex';

/**
 * Bulk uploads: the upload itself, its rows staged for the chunk workflows (any worker can read them), and
 * the rejected rows. Staged rows keep sensitive values (card number, email) only as FieldCipher ciphertext.
 * `slot` is a stable hash of the row's order id: a chunk is a range of slots, so all rows of one order land
 * in the same chunk wherever they stand in the file.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uploads', (table) => {
    table.string('upload_id', 64).primary();
    table.string('format', 8).notNullable();
    table.string('upload_status', 32).notNullable();
    // SHA-256 of the file: the same file uploaded again is the same upload.
    table.specificType('file_sha256', 'char(64)').nullable().unique('uploads_file_sha256_uq');
    table.bigInteger('bytes').notNullable().defaultTo(0);
    table.integer('rows_total').notNullable().defaultTo(0);
    table.integer('rows_imported').notNullable().defaultTo(0);
    table.integer('rows_rejected').notNullable().defaultTo(0);
    table.integer('chunks_total').notNullable().defaultTo(0);
    table.integer('chunks_completed').notNullable().defaultTo(0);
    table.integer('chunks_failed').notNullable().defaultTo(0);
    table.string('failure_reason', 512).nullable();
    table.datetime('started_at', { precision: 3 }).notNullable();
    table.datetime('finished_at', { precision: 3 }).nullable();
  });

  await knex.schema.createTable('upload_rows', (table) => {
    table
      .string('upload_id', 64)
      .notNullable()
      .references('upload_id')
      .inTable('uploads')
      .onDelete('CASCADE');
    table.integer('row_no').notNullable();
    table.integer('line').notNullable();
    table.integer('order_line').nullable();
    table.integer('slot').notNullable();
    table.boolean('is_payment').nullable();
    // The row's values as JSON, sealed: they include card numbers and emails.
    table.text('fields_enc').notNullable();
    table.text('problems').nullable();
    table.primary(['upload_id', 'row_no']);
    table.index(['upload_id', 'slot'], 'upload_rows_slot_idx');
  });

  await knex.schema.createTable('upload_errors', (table) => {
    table
      .string('upload_id', 64)
      .notNullable()
      .references('upload_id')
      .inTable('uploads')
      .onDelete('CASCADE');
    table.integer('line').notNullable();
    table.string('field', 64).notNullable();
    table.string('order_id', 64).nullable();
    table.string('reason', 512).notNullable();
    // A re-run chunk inserts the same errors again: the key makes that a no-op.
    table.primary(['upload_id', 'line', 'field']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('upload_errors');
  await knex.schema.dropTable('upload_rows');
  await knex.schema.dropTable('uploads');
}
