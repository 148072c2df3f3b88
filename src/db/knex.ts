import knex, { type Knex } from 'knex';
import { createPool, format, type Connection, type Pool } from 'mysql2';

export type Db = Knex;

const TIMEZONE = 'Z';

/**
 * Every connection to the database: DECIMAL columns come back as strings, so money never passes through a
 * float, and dates as UTC.
 */
export const CONNECTION_SETTINGS = {
  timezone: TIMEZONE,
  decimalNumbers: false,
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: false,
  queryFormat: statementWithValues,
} as const;

/**
 * mysql2's own formatting, except that a statement without values is sent as it is: mysql2 scans every statement
 * for placeholders even with none to fill, and a finished INSERT of an upload chunk is a few hundred kilobytes.
 */
function statementWithValues(sql: string, values: unknown): string {
  if (values === undefined || (Array.isArray(values) && values.length === 0)) return sql;
  return format(sql, values as Parameters<typeof format>[1], undefined, TIMEZONE);
}

interface StatementPool {
  pool?: Pool;
  databaseUrl: string;
  connections: number;
  destroyed: boolean;
}

const statementPools = new WeakMap<Db, StatementPool>();

/** A statement refused because a unique key already holds its value. */
export const isDuplicateKey = (error: unknown): boolean =>
  (error as { code?: unknown }).code === 'ER_DUP_ENTRY';

/** InnoDB chose this transaction to end a deadlock and rolled it back whole; running it again is the remedy. */
export const isDeadlock = (error: unknown): boolean =>
  (error as { code?: unknown }).code === 'ER_LOCK_DEADLOCK';

/** Runs of a transaction that meets deadlocks, before its error is passed on. */
const DEADLOCK_ATTEMPTS = 5;

/**
 * Runs `transaction` again when InnoDB rolls it back to end a deadlock, at once: the other transaction holds
 * its locks only until it commits. Concurrent transactions that insert into the same ranges of a key deadlock now
 * and then (upload chunks whose order ids interleave, as `ORD-1000` and `ORD-10000` do).
 */
export async function retryOnDeadlock<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= DEADLOCK_ATTEMPTS) throw error;
    }
  }
}

/**
 * A database error in a line: its code and the server's message. knex puts the whole statement in the message,
 * and an INSERT of hundreds of rows would carry every value into logs and the Temporal failure (whose size
 * limit then drops the reason).
 */
export function describeDbError(error: unknown): string {
  const { code, sqlMessage, message } = error as { code?: unknown; sqlMessage?: unknown; message?: unknown };
  if (typeof sqlMessage === 'string') return `${String(code)}: ${sqlMessage}`;
  return typeof message === 'string' ? message : String(error);
}

/** The one database handle. */
export function createDb(databaseUrl: string, pool: { min?: number; max?: number } = {}): Db {
  const db = knex({
    client: 'mysql2',
    connection: { uri: databaseUrl, ...CONNECTION_SETTINGS } as Knex.MySql2ConnectionConfig,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
  const statements: StatementPool = { databaseUrl, connections: pool.max ?? 10, destroyed: false };
  statementPools.set(db, statements);
  // `db.destroy()` ends the statement pool too, so whoever holds a Db closes one thing.
  const client = db.client as { destroy(callback?: unknown): Promise<void> };
  const destroyKnex = client.destroy.bind(client);
  client.destroy = async (callback) => {
    const ended = statements.pool;
    statements.pool = undefined;
    statements.destroyed = true;
    if (ended) await new Promise<void>((resolve) => ended.end(() => resolve()));
    return destroyKnex(callback);
  };
  return db;
}

/**
 * mysql2's own pool beside knex's, with the same settings and size, for the prepared statements of the
 * hottest reads (src/db/orders.ts). knex's pool arms a timer and four promises on every acquire; on
 * `GET /orders/:id` using mysql2's pool instead cut the API's CPU per response by about 12 % (BENCHMARKS.md).
 * Made on first use, so processes that never run such a read open no second pool.
 */
export function statementPool(db: Db): Pool {
  const statements = statementPools.get(db);
  if (!statements) throw new Error('statementPool needs a Db made by createDb');
  // A pool made after destroy() would hold connections nobody ends.
  if (statements.destroyed) throw new Error('the database handle was destroyed');
  statements.pool ??= createPool({
    uri: statements.databaseUrl,
    ...CONNECTION_SETTINGS,
    connectionLimit: statements.connections,
  });
  return statements.pool;
}

/**
 * Runs a finished statement (its values already escaped into it) on a connection of `db`: a transaction's own, or
 * one borrowed from the pool. It skips knex's work per query, which for an INSERT of hundreds of kilobytes means
 * copying the statement for its debug output (with the placeholder scan above, about 8 % of a chunk import's CPU).
 */
export async function runStatement(db: Db, sql: string): Promise<void> {
  const client = db.client as {
    acquireConnection(): Promise<Connection>;
    releaseConnection(connection: Connection): Promise<void>;
  };
  const connection = await client.acquireConnection();
  try {
    await new Promise<void>((resolve, reject) => {
      connection.query(sql, (error) => (error ? reject(error) : resolve()));
    });
  } finally {
    await client.releaseConnection(connection);
  }
}

export async function pingDb(db: Db): Promise<void> {
  await db.raw('select 1');
}
