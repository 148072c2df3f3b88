import type { Knex } from 'knex';

/**
 * The batches of a running key rotation (src/activities/keys). A batch records its counts in the same
 * transaction as its rewrites, so a retry of a batch whose first attempt committed answers those counts
 * instead of counting again. The rotation deletes its records when it completes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('key_rotation_batches', (table) => {
    // `<runId>/<n>`: unique per batch of a workflow run, the same on every retry of that batch.
    table.string('batch_id', 64).primary();
    table.string('key_id', 32).notNullable().index('key_rotation_batches_key_idx');
    table.integer('scanned').notNullable();
    table.integer('rewritten').notNullable();
    // JSON array: the primary key of the last row the batch read.
    table.text('cursor').nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('key_rotation_batches');
}
