import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOwnLocalServer } from '../../scripts/lib/mariadb';

/**
 * `npm start` adopts a server on its port only when it is this project's own: the check runs against the
 * real test server, whose data folder is known from the query itself.
 */
describe('the project-local database check of npm start', () => {
  const url = process.env.DURAPAY_TEST_DATABASE_URL!;

  it("accepts the server whose data folder is this project's", async () => {
    const dataDir = await serverDataRoot(url);
    await expect(checkOwnLocalServer(url, dataDir)).resolves.toBeUndefined();
  });

  it('refuses a server with another data folder, saying what to do', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-other-data-'));
    fs.mkdirSync(path.join(elsewhere, 'mariadb'));
    await expect(checkOwnLocalServer(url, elsewhere)).rejects.toThrow(
      /already answers on 127\.0\.0\.1:\d+, but its data folder is .*, not this project's .*mariadb\. Stop that server, or set DATABASE_URL/,
    );
  });
});

/** The folder that holds the server's `mariadb` data folder, as LOCAL_MARIADB.dataDir does. */
async function serverDataRoot(url: string): Promise<string> {
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ uri: url });
  try {
    const [rows] = await connection.query('SELECT @@datadir AS dir');
    return path.dirname((rows as { dir: string }[])[0]!.dir.replace(/\/$/, ''));
  } finally {
    await connection.end();
  }
}
