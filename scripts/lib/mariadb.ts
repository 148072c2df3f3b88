import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import { installDebianPackages, SYSTEM_DIRS } from './apt';
import { findExecutable, forwardLines, run } from './process';

/** A project-local MariaDB: its own data folder and port, root over the unix socket only, an app user on TCP. */
export interface LocalMariaDbOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  log: (line: string) => void;
}

export async function isDatabaseReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await createConnection({ uri: url, connectTimeout: timeoutMs });
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses a server that answers on the project-local port but is not this project's: another checkout's, a
 * system one, or a leftover whose data folder is gone. Adopting it would put the stack's data somewhere else.
 */
export async function checkOwnLocalServer(url: string, dataDir: string): Promise<void> {
  const connection = await createConnection({ uri: url });
  let serverDir: string;
  try {
    const [rows] = await connection.query('SELECT @@datadir AS dir');
    serverDir = (rows as { dir: string }[])[0]!.dir;
  } finally {
    await connection.end();
  }
  const ownDir = path.join(dataDir, 'mariadb');
  const same = fs.existsSync(serverDir) && fs.existsSync(ownDir) && sameFolder(serverDir, ownDir);
  if (!same || !fs.existsSync(path.join(serverDir, 'mysql'))) {
    const { hostname, port } = new URL(url);
    throw new Error(
      `a database server already answers on ${hostname}:${port}, but its data folder is ${serverDir}, not this ` +
        `project's ${ownDir}${fs.existsSync(serverDir) ? '' : ' (and that folder no longer exists)'}. Stop ` +
        'that server, or set DATABASE_URL to use it on purpose.',
    );
  }
}

function sameFolder(a: string, b: string): boolean {
  return fs.realpathSync(a) === fs.realpathSync(b);
}

/** Installs Debian's mariadb-server when the server binary is missing. */
export async function ensureMariaDbInstalled(log: (line: string) => void): Promise<void> {
  if (findExecutable(['mariadbd', 'mysqld'], SYSTEM_DIRS)) return;
  await installDebianPackages(
    ['mariadb-server', 'mariadb-client'],
    'MariaDB is not installed. Install it (Debian/Ubuntu: apt-get install mariadb-server) or set DATABASE_URL.',
    log,
  );
}

/**
 * Starts mariadbd as a child process (initialising the data folder on first use), waits until it
 * answers, and makes sure the app user and database exist. The caller owns the returned process.
 */
export async function startLocalMariaDb(options: LocalMariaDbOptions): Promise<ChildProcess> {
  const { dataDir, port, log } = options;
  const server = findExecutable(['mariadbd', 'mysqld'], SYSTEM_DIRS);
  const installDb = findExecutable(['mariadb-install-db', 'mysql_install_db'], SYSTEM_DIRS);
  if (!server || !installDb)
    throw new Error('MariaDB is not installed (mariadbd and mariadb-install-db are needed)');

  const dbDir = path.join(dataDir, 'mariadb');
  const socket = path.join(dataDir, 'mariadb.sock');
  const osUser = os.userInfo().username;
  if (!fs.existsSync(path.join(dbDir, 'mysql'))) {
    log(`initialising a new MariaDB data folder in ${dbDir}`);
    fs.mkdirSync(dbDir, { recursive: true });
    await run(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dbDir}`,
        `--user=${osUser}`,
        '--auth-root-authentication-method=socket',
        `--auth-root-socket-user=${osUser}`,
        '--skip-test-db',
      ],
      { log },
    );
  }

  const child = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${dbDir}`,
      `--socket=${socket}`,
      `--pid-file=${path.join(dataDir, 'mariadb.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--user=${osUser}`,
      // Room for a million-order upload's tables and indexes: their inserts land all over the indexes, and
      // a pool that does not hold them turns every insert into page reads.
      '--innodb-buffer-pool-size=2G',
      // A redo log this size lets bulk inserts run without stalling on checkpoints.
      '--innodb-log-file-size=512M',
      '--max-connections=500',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
    ],
    // Own process group, so a terminal's Ctrl-C leaves shutdown order to whoever started it.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  forwardLines(child.stdout, log);
  forwardLines(child.stderr, log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await waitFor(async () => fs.existsSync(socket) && (await canRunSql(socket)), exited, 60_000);
  await provisionAppUser(socket, options);
  log(`MariaDB ready on 127.0.0.1:${port} (database ${options.database}, user ${options.user})`);
  return child;
}

async function canRunSql(socket: string): Promise<boolean> {
  try {
    await rootSql(socket, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Root logs in over the unix socket only; the app gets a password user on loopback, with its test databases. */
async function provisionAppUser(
  socket: string,
  { user, password, database }: LocalMariaDbOptions,
): Promise<void> {
  const account = `'${user}'@'127.0.0.1'`;
  await rootSql(
    socket,
    [
      `CREATE DATABASE IF NOT EXISTS \`${database}\``,
      `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '${password}'`,
      // `durapay%` also covers the throwaway databases each test file creates.
      `GRANT ALL PRIVILEGES ON \`${database}%\`.* TO ${account}`,
    ].join('; '),
  );
}

async function rootSql(socket: string, sql: string): Promise<void> {
  const client = findExecutable(['mariadb', 'mysql'], SYSTEM_DIRS);
  if (!client) throw new Error('the mariadb client is not installed');
  await run(client, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', sql]);
}

async function waitFor(ready: () => Promise<boolean>, exited: Promise<number | null>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`mariadbd exited with code ${exitCode} while starting`);
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`mariadbd did not become ready within ${timeoutMs / 1000}s`);
}
