import knex, { type Knex } from 'knex';

export type Db = Knex;

/** The one database handle. DECIMAL columns come back as strings, so money never passes through a float. */
export function createDb(databaseUrl: string, pool: { min?: number; max?: number } = {}): Db {
  return knex({
    client: 'mysql2',
    connection: {
      uri: databaseUrl,
      timezone: 'Z',
      decimalNumbers: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: false,
    } as Knex.MySql2ConnectionConfig,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}

export async function pingDb(db: Db): Promise<void> {
  await db.raw('select 1');
}
