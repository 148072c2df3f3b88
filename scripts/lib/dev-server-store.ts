/**
 * Where the Temporal dev server (`temporal server start-dev`) keeps its state, for `npm start`, the benches
 * and the tests: a SQLite file in WAL mode.
 *
 * SQLite's default journal with `synchronous=FULL` waits for the disk twice per Temporal write; WAL appends
 * to one log and, with `synchronous=NORMAL`, syncs it only at checkpoints. What each setting risks:
 * - NORMAL (the default): a crash of the dev server loses nothing committed; an OS crash or power loss may
 *   lose the last transactions, but the file stays consistent.
 * - OFF: the same after a crash of the dev server; an OS crash or power loss may corrupt the file.
 * - FULL: nothing committed is lost even on power loss, at a sync per commit.
 * BENCHMARKS.md has the measurement behind the default.
 */
import path from 'node:path';

export const SQLITE_SYNCHRONOUS = ['NORMAL', 'OFF', 'FULL'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'NORMAL';

/** The CLI flags that put a dev server's SQLite file in WAL mode with the given `synchronous`. */
export function sqlitePragmaArgs(synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS): string[] {
  return ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', `synchronous=${synchronous}`];
}

/**
 * The dev server's store flags from the environment: DURAPAY_DEV_TEMPORAL_DB names the SQLite file
 * (`defaultFile` when unset) or is `memory` for a server that forgets everything when it stops;
 * DURAPAY_DEV_TEMPORAL_SYNCHRONOUS picks NORMAL, OFF or FULL for the file.
 */
export function devServerStoreArgs(env: NodeJS.ProcessEnv, defaultFile: string): string[] {
  const store = env.DURAPAY_DEV_TEMPORAL_DB?.trim() || defaultFile;
  if (store === 'memory') return [];
  return ['--db-filename', path.resolve(store), ...sqlitePragmaArgs(synchronousFrom(env))];
}

function synchronousFrom(env: NodeJS.ProcessEnv): SqliteSynchronous {
  const value = env.DURAPAY_DEV_TEMPORAL_SYNCHRONOUS?.trim().toUpperCase() || DEFAULT_SQLITE_SYNCHRONOUS;
  // SQLite ignores a value it does not know, which would silently keep its slow default.
  if (!(SQLITE_SYNCHRONOUS as readonly string[]).includes(value)) {
    throw new Error(
      `DURAPAY_DEV_TEMPORAL_SYNCHRONOUS must be one of ${SQLITE_SYNCHRONOUS.join(', ')}, not "${env.DURAPAY_DEV_TEMPORAL_SYNCHRONOUS}"`,
    );
  }
  return value as SqliteSynchronous;
}
