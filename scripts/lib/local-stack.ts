import { DEFAULT_DATA_DIR, LOCAL_DATABASE_URL, parseDatabaseUrl } from '../../src/config';

const { port, user, password, database } = parseDatabaseUrl(LOCAL_DATABASE_URL);

/** The project-local MariaDB behind LOCAL_DATABASE_URL, shared by `npm start` and `npm test`. */
export const LOCAL_MARIADB = { dataDir: DEFAULT_DATA_DIR, port, user, password, database };
