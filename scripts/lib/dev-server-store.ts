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
import type { SqliteSynchronous } from '../../src/config';

export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'NORMAL';

/** The CLI flags that put a dev server's SQLite file in WAL mode with the given `synchronous`. */
export function sqlitePragmaArgs(synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS): string[] {
  return ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', `synchronous=${synchronous}`];
}

/** The dev server's store flags: a SQLite file in WAL mode, or none for `memory` (a server that forgets). */
export function devServerStoreArgs(store: string, synchronous: SqliteSynchronous): string[] {
  if (store === 'memory') return [];
  return ['--db-filename', store, ...sqlitePragmaArgs(synchronous)];
}
