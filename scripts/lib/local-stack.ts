import path from 'node:path';
import { DEFAULT_DATA_DIR, LOCAL_DATABASE_URL, parseDatabaseUrl } from '../../src/config';

/** The project-local MariaDB of `npm start`, behind LOCAL_DATABASE_URL. */
export const LOCAL_MARIADB = { dataDir: DEFAULT_DATA_DIR, ...credentialsOf(LOCAL_DATABASE_URL) };

/** `npm test` has its own server, port and data, so tests and a running stack never stop each other's database. */
export const TEST_DATABASE_URL = 'mysql://durapay:durapay@127.0.0.1:3308/durapay';
export const TEST_MARIADB = {
  dataDir: path.join(DEFAULT_DATA_DIR, 'test'),
  ...credentialsOf(TEST_DATABASE_URL),
};

function credentialsOf(url: string) {
  const { port, user, password, database } = parseDatabaseUrl(url);
  return { port, user, password, database };
}
