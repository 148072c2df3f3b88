import { randomBytes } from 'node:crypto';
import { parseDatabaseUrl } from '../../src/config';
import { createDb, type Db } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

export interface TestDatabase {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the real server for one test file, so files run in parallel without
 * sharing rows. Named `<database>_t_<random>`, which the local server's app user may create.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DURAPAY_TEST_DATABASE_URL;
  if (!serverUrl)
    throw new Error(
      'DURAPAY_TEST_DATABASE_URL is not set: a test that needs MariaDB belongs to the integration project (jest.config.js), whose global setup sets it',
    );
  const name = `${parseDatabaseUrl(serverUrl).database}_t_${randomBytes(4).toString('hex')}`;
  const admin = createDb(serverUrl, { max: 1 });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString());
  if (options.migrate ?? true) await migrateLatest(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    },
  };
}
