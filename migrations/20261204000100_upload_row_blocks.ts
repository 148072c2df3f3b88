import type { Knex } from 'knex';

/**
 * Staged upload rows are sealed in blocks: a record of `upload_rows` holds the rows of one bin of slots from
 * one stretch of the file, as one FieldCipher value (see src/db/uploads.ts). A block of 64k characters of JSON
 * is sealed as more than TEXT's 64 KiB, and a single XML row may be up to a megabyte.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE upload_rows MODIFY fields_enc MEDIUMTEXT NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE upload_rows MODIFY fields_enc TEXT NOT NULL');
}
