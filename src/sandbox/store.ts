/**
 * The sandbox provider's durable store: its own database, apart from durapay's, as a real provider's would
 * be. Charges hold what a provider may keep of a card: brand and last 4, never the number or the CVC.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createDb, isDuplicateKey, type Db } from '../db/knex';
import type { CardBrand } from '../domain/cards';

const CHARGES = 'charges';
const IDEMPOTENCY_KEYS = 'idempotency_keys';

export interface Charge {
  id: string;
  idempotencyKey: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  cardBrand: CardBrand;
  cardLast4: string;
  orderId: string;
  paymentId: string;
  createdAt: Date;
}

export interface IdempotencyRecord {
  requestHash: string;
  /** The process holding the key while it handles a request with it; null when nobody does. */
  lockedBy: string | null;
  /** `succeeded` or a decline code once the key has its final answer; null before. */
  outcome: string | null;
  transientFailures: number;
}

/** Migrations kept in code: the sandbox is one process with a database of its own and no migration files. */
const MIGRATIONS: Record<string, { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }> = {
  '001_charges_and_idempotency_keys': {
    async up(knex) {
      await knex.schema.createTable(CHARGES, (table) => {
        // Paging order: oldest first, and `starting_after` resumes after a charge's position.
        table.bigIncrements('seq').primary();
        table.specificType('id', 'varchar(32) character set ascii').notNullable().unique();
        // At most one charge per key, whatever happens to the process that takes it.
        table
          .specificType('idempotency_key', 'varchar(255) character set ascii collate ascii_bin')
          .notNullable()
          .unique();
        table.bigInteger('amount').notNullable();
        table.specificType('currency', 'char(3)').notNullable();
        table.string('card_brand', 16).notNullable();
        table.specificType('card_last4', 'char(4)').notNullable();
        table.string('order_id', 128).notNullable();
        table.string('payment_id', 128).notNullable();
        table.datetime('created_at', { precision: 3 }).notNullable().index();
      });
      await knex.schema.createTable(IDEMPOTENCY_KEYS, (table) => {
        // Binary collation: keys differing only in case are different keys.
        table.specificType('idempotency_key', 'varchar(255) character set ascii collate ascii_bin').primary();
        table.specificType('request_hash', 'char(64) character set ascii').notNullable();
        table.specificType('locked_by', 'char(24) character set ascii').nullable();
        table.string('outcome', 32).nullable();
        table.integer('transient_failures').unsigned().notNullable().defaultTo(0);
        table.datetime('created_at', { precision: 3 }).notNullable();
        table.datetime('completed_at', { precision: 3 }).nullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTable(IDEMPOTENCY_KEYS);
      await knex.schema.dropTable(CHARGES);
    },
  },
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(MIGRATIONS)),
  getMigrationName: (name) => name,
  getMigration: (name) => Promise.resolve(MIGRATIONS[name]!),
};

/** Creates the database if it is missing (the URL's user needs the right to), then its tables. */
export async function openSandboxStore(databaseUrl: string): Promise<Db> {
  const serverUrl = new URL(databaseUrl);
  const database = decodeURIComponent(serverUrl.pathname.slice(1));
  serverUrl.pathname = '/';
  const server = createDb(serverUrl.toString(), { max: 1 });
  try {
    await server.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [database]);
  } finally {
    await server.destroy();
  }
  const db = createDb(databaseUrl);
  await db.migrate.latest({ migrationSource, tableName: 'sandbox_migrations' });
  return db;
}

export const newChargeId = (): string => `ch_${randomBytes(12).toString('hex')}`;

/** An ID for this process's life, marking the idempotency keys it holds. */
export const newInstanceId = (): string => randomBytes(12).toString('hex');

/**
 * One sandbox process serves a database, so at start nothing can still be in progress: a previous life that
 * died mid-request left its keys locked. Freeing them lets the caller's retry run; the unique key on
 * charges still forbids a second charge if that life had already taken one.
 */
export async function releaseAllKeys(db: Db): Promise<number> {
  return db(IDEMPOTENCY_KEYS).whereNotNull('locked_by').update({ locked_by: null });
}

/** Records a new key, held by `instanceId`; false when the key already exists. */
export async function insertLockedKey(
  db: Db,
  key: string,
  requestHash: string,
  instanceId: string,
  now: Date,
): Promise<boolean> {
  return insertUnlessDuplicate(db, IDEMPOTENCY_KEYS, {
    idempotency_key: key,
    request_hash: requestHash,
    locked_by: instanceId,
    created_at: now,
  });
}

export async function findKey(db: Db, key: string): Promise<IdempotencyRecord | undefined> {
  const row = (await db(IDEMPOTENCY_KEYS).where({ idempotency_key: key }).first()) as
    | { request_hash: string; locked_by: string | null; outcome: string | null; transient_failures: number }
    | undefined;
  return (
    row && {
      requestHash: row.request_hash,
      lockedBy: row.locked_by,
      outcome: row.outcome,
      transientFailures: row.transient_failures,
    }
  );
}

/** Takes a key nobody holds and that has no answer yet; false when another request holds it or it is done. */
export async function lockKey(db: Db, key: string, instanceId: string): Promise<boolean> {
  const updated = await db(IDEMPOTENCY_KEYS)
    .where({ idempotency_key: key })
    .whereNull('locked_by')
    .whereNull('outcome')
    .update({ locked_by: instanceId });
  return updated === 1;
}

export async function unlockKey(db: Db, key: string, instanceId: string): Promise<void> {
  await db(IDEMPOTENCY_KEYS)
    .where({ idempotency_key: key, locked_by: instanceId })
    .update({ locked_by: null });
}

/** Counts a transient failure and frees the key, so the caller's retry runs it again. */
export async function recordTransientFailure(db: Db, key: string, instanceId: string): Promise<void> {
  await db(IDEMPOTENCY_KEYS)
    .where({ idempotency_key: key, locked_by: instanceId })
    .update({ transient_failures: db.raw('transient_failures + 1'), locked_by: null });
}

/** The key's final answer; every later request with it is answered from here. */
export async function completeKey(
  db: Db,
  key: string,
  instanceId: string,
  outcome: string,
  now: Date,
): Promise<void> {
  await db(IDEMPOTENCY_KEYS)
    .where({ idempotency_key: key, locked_by: instanceId })
    .update({ outcome, completed_at: now, locked_by: null });
}

/** Takes the charge; false when the key already has one, which then stands. */
export async function insertCharge(db: Db, charge: Charge): Promise<boolean> {
  return insertUnlessDuplicate(db, CHARGES, {
    id: charge.id,
    idempotency_key: charge.idempotencyKey,
    amount: charge.amount,
    currency: charge.currency,
    card_brand: charge.cardBrand,
    card_last4: charge.cardLast4,
    order_id: charge.orderId,
    payment_id: charge.paymentId,
    created_at: charge.createdAt,
  });
}

/** The database's unique key decides between concurrent inserts; INSERT IGNORE would hide other errors too. */
async function insertUnlessDuplicate(db: Db, table: string, row: Record<string, unknown>): Promise<boolean> {
  try {
    await db(table).insert(row);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

export async function findChargeByKey(db: Db, key: string): Promise<Charge | undefined> {
  const row = (await db(CHARGES).where({ idempotency_key: key }).first()) as ChargeRow | undefined;
  return row && toCharge(row);
}

/**
 * A page of charges, oldest first: created at or after `createdGte`, after the charge `startingAfter`.
 * Undefined when `startingAfter` names no charge. One more row than asked tells whether more follow.
 */
export async function listCharges(
  db: Db,
  query: { createdGte?: Date; startingAfter?: string; limit: number },
): Promise<{ charges: Charge[]; hasMore: boolean } | undefined> {
  let after = 0;
  if (query.startingAfter !== undefined) {
    const anchor = await db<{ seq: string; id: string }>(CHARGES)
      .where('id', query.startingAfter)
      .first('seq');
    if (!anchor) return undefined;
    after = Number(anchor.seq);
  }
  const rows = (await db(CHARGES)
    .where('seq', '>', after)
    .where('created_at', '>=', query.createdGte ?? new Date(0))
    .orderBy('seq')
    .limit(query.limit + 1)) as ChargeRow[];
  return { charges: rows.slice(0, query.limit).map(toCharge), hasMore: rows.length > query.limit };
}

interface ChargeRow {
  id: string;
  idempotency_key: string;
  amount: string;
  currency: string;
  card_brand: CardBrand;
  card_last4: string;
  order_id: string;
  payment_id: string;
  created_at: Date;
}

function toCharge(row: ChargeRow): Charge {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    // BIGINT comes back as a string; amounts are validated as safe integers before they are stored.
    amount: Number(row.amount),
    currency: row.currency,
    cardBrand: row.card_brand,
    cardLast4: row.card_last4,
    orderId: row.order_id,
    paymentId: row.payment_id,
    createdAt: row.created_at,
  };
}
