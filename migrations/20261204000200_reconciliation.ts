import type { Knex } from 'knex';

/**
 * Reconciliation of the provider's charges with the payments (src/activities/reconciliation): each run, what
 * it found, and how far the runs have read. A finding is keyed by its kind and subject, so a run that reads
 * a window again, or a retried page, records nothing twice. Amounts are integer minor units.
 */
const COMPLETED_PAYMENTS_IDX = 'payments_status_updated_idx';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconciliation_runs', (table) => {
    // The first Temporal run ID of the workflow execution: the same for every retry and continue-as-new.
    table.string('run_id', 64).primary();
    // The window: charges created from `charges_since`, card payments completed from `payments_since` (each
    // its watermark less an overlap), both until `cutoff` (the run's start less the grace period).
    table.datetime('charges_since', { precision: 3 }).notNullable();
    table.datetime('payments_since', { precision: 3 }).notNullable();
    table.datetime('cutoff', { precision: 3 }).notNullable();
    // CHARGES, then PAYMENTS, then DONE.
    table.string('phase', 16).notNullable();
    // Where the current phase resumes: a charge id, or a JSON [completedAt, paymentId] of the payments.
    table.string('cursor', 255).nullable();
    // Pages committed; a page commits only when this still has the number it read.
    table.integer('pages_done').notNullable().defaultTo(0);
    table.integer('charges_examined').notNullable().defaultTo(0);
    table.integer('payments_examined').notNullable().defaultTo(0);
    table.integer('findings_count').notNullable().defaultTo(0);
    table.datetime('started_at', { precision: 3 }).notNullable();
    table.datetime('finished_at', { precision: 3 }).nullable();
    table.index(['started_at', 'run_id'], 'reconciliation_runs_started_idx');
  });
  await knex.schema.createTable('reconciliation_findings', (table) => {
    table.bigIncrements('finding_id').primary();
    table.string('run_id', 64).notNullable().references('run_id').inTable('reconciliation_runs');
    table.string('kind', 32).notNullable();
    // The charge id or payment id the finding is about; with the kind, what makes it one finding.
    table.string('subject', 128).notNullable();
    table.string('payment_id', 64).nullable();
    table.string('charge_id', 64).nullable();
    table.bigInteger('expected_amount').nullable();
    table.specificType('expected_currency', 'char(3)').nullable();
    table.bigInteger('actual_amount').nullable();
    table.specificType('actual_currency', 'char(3)').nullable();
    table.datetime('detected_at', { precision: 3 }).notNullable();
    table.unique(['kind', 'subject'], { indexName: 'reconciliation_findings_subject_uq' });
    table.index(['run_id', 'finding_id'], 'reconciliation_findings_run_idx');
  });
  await knex.schema.createTable('reconciliation_watermarks', (table) => {
    // `charges` (by creation at the provider) or `payments` (by completion here).
    table.string('source', 16).primary();
    table.datetime('watermark', { precision: 3 }).notNullable();
  });
  // A run pages the payments completed in its window by (completion time, ID).
  await knex.schema.alterTable('payments', (table) => {
    table.index(['payment_status', 'updated_at', 'payment_id'], COMPLETED_PAYMENTS_IDX);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.dropIndex([], COMPLETED_PAYMENTS_IDX);
  });
  await knex.schema.dropTable('reconciliation_watermarks');
  await knex.schema.dropTable('reconciliation_findings');
  await knex.schema.dropTable('reconciliation_runs');
}
