import { describeDbError, isDeadlock, retryOnDeadlock, type Db } from '../../src/db/knex';
import { createTestDatabase, type TestDatabase } from '../support/db';

const PROBE = 'deadlock_probe';
const ROWS = 200;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * A real InnoDB deadlock: `light` locks row 1, then `heavy` locks every other row and asks for row 1, and `light`
 * asks for row 2. InnoDB rolls back the transaction that has done less, `light`, and `heavy` commits.
 * `update` is light's second statement, so a test can run it inside a savepoint as the chunk import does.
 */
function deadlockOnce(db: Db) {
  const lightHasRow1 = deferred();
  const heavyHasTheRest = deferred();
  let lightRuns = 0;
  const heavy = db.transaction(async (trx) => {
    await lightHasRow1.promise;
    await trx(PROBE).where('id', '>=', 2).update({ n: 1 });
    heavyHasTheRest.resolve();
    await trx(PROBE).where({ id: 1 }).update({ n: 1 });
  });
  const light = (secondUpdate: (trx: Db) => Promise<unknown>) => async (trx: Db) => {
    lightRuns += 1;
    await trx(PROBE).where({ id: 1 }).update({ n: 2 });
    if (lightRuns === 1) {
      lightHasRow1.resolve();
      await heavyHasTheRest.promise;
    }
    await secondUpdate(trx);
    return lightRuns;
  };
  return { heavy, light };
}

describe('transactions that meet an InnoDB deadlock', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await database.db.schema.createTable(PROBE, (table) => {
      table.integer('id').primary();
      table.integer('n').notNullable();
    });
    await database.db(PROBE).insert(Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, n: 0 })));
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('fails the transaction InnoDB rolls back with a short reason, without the statement', async () => {
    const { db } = database;
    const { heavy, light } = deadlockOnce(db);
    const failure = await db.transaction(light((trx) => trx(PROBE).where({ id: 2 }).update({ n: 2 }))).then(
      () => undefined,
      (error: unknown) => error,
    );
    await heavy;
    expect(isDeadlock(failure)).toBe(true);
    expect(describeDbError(failure)).toBe(
      'ER_LOCK_DEADLOCK: Deadlock found when trying to get lock; try restarting transaction',
    );
    // What the thread and the workflow would otherwise have carried: the whole statement.
    expect((failure as Error).message).toContain('update `deadlock_probe`');
  });

  it('runs the rolled back transaction again, and both transactions commit', async () => {
    const { db } = database;
    const { heavy, light } = deadlockOnce(db);
    const runs = await retryOnDeadlock(() =>
      db.transaction(light((trx) => trx(PROBE).where({ id: 2 }).update({ n: 2 }))),
    );
    await heavy;
    expect(runs).toBe(2);
    // light's second run committed after heavy: rows 1 and 2 hold its values, the rest heavy's.
    expect(await db(PROBE).whereIn('id', [1, 2, 3]).orderBy('id').pluck('n')).toEqual([2, 2, 1]);
  });

  it('runs it again when the deadlock strikes inside a savepoint, as a chunk writes its orders', async () => {
    const { db } = database;
    const { heavy, light } = deadlockOnce(db);
    const runs = await retryOnDeadlock(() =>
      db.transaction(
        light((trx) => trx.transaction((savepoint) => savepoint(PROBE).where({ id: 2 }).update({ n: 3 }))),
      ),
    );
    await heavy;
    expect(runs).toBe(2);
    expect(await db(PROBE).whereIn('id', [1, 2]).orderBy('id').pluck('n')).toEqual([2, 3]);
  });
});
