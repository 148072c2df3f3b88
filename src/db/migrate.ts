import path from 'node:path';
import type { Knex } from 'knex';
import { createDb, type Db } from './knex';
import { loadConfig } from '../config';

/** Works from the TypeScript sources and from the compiled `dist/` tree alike. */
export const migrationConfig: Knex.MigratorConfig = {
  directory: path.resolve(__dirname, '../../migrations'),
  loadExtensions: [path.extname(__filename)],
  tableName: 'knex_migrations',
};

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Db): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(migrationConfig, true)) as [number, string[]];
  return reverted;
}

async function main(): Promise<void> {
  const db = createDb(loadConfig().databaseUrl, { max: 1 });
  try {
    const down = process.argv.includes('--down');
    const names = down ? await migrateRollbackAll(db) : await migrateLatest(db);
    console.log(
      names.length ? `${down ? 'reverted' : 'applied'}: ${names.join(', ')}` : 'database is up to date',
    );
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
