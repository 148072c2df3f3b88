import { stopProcess } from '../../scripts/lib/process';

export default async function globalTeardown(): Promise<void> {
  const mariadb = globalThis.__DURAPAY_MARIADB__;
  if (mariadb) await stopProcess(mariadb);
}
