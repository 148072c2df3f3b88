import { createDb, isDuplicateKey, runStatement, type Db } from '../../src/db/knex';
import { createTestDatabase, type TestDatabase } from '../support/db';

const PROBE = 'statement_probe';

describe('finished statements and the connection settings', () => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    db = database.db;
    await db.schema.createTable(PROBE, (table) => {
      table.integer('id').primary();
      table.string('note', 40).notNullable();
    });
  });

  afterEach(async () => {
    await db(PROBE).delete();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const notes = () => db(PROBE).orderBy('id').select<{ id: number; note: string }[]>('id', 'note');

  it('sends a statement without values as it is, question marks in its text included', async () => {
    await runStatement(db, `INSERT INTO ${PROBE} (id, note) VALUES (1, 'why?'), (2, '?? and ?')`);
    expect(await notes()).toEqual([
      { id: 1, note: 'why?' },
      { id: 2, note: '?? and ?' },
    ]);
    const [rows] = (await db.raw("SELECT 'a?b' AS text")) as [{ text: string }[]];
    expect(rows[0]?.text).toBe('a?b');
  });

  it('still fills placeholders when a statement has values, escaping them as mysql2 does', async () => {
    await db.raw('INSERT INTO ?? (id, note) VALUES (?, ?)', [PROBE, 3, "it's ?"]);
    expect(await notes()).toEqual([{ id: 3, note: "it's ?" }]);
    const [rows] = (await db.raw('SELECT ? AS d', [new Date('2026-12-05T01:02:03.004Z')])) as [
      { d: string }[],
    ];
    expect(rows[0]?.d).toBe('2026-12-05 01:02:03.004');
  });

  it("runs on the transaction's own connection, so a rollback undoes it", async () => {
    let seenInside: unknown;
    const rolledBack = db.transaction(async (trx) => {
      await runStatement(trx, `INSERT INTO ${PROBE} (id, note) VALUES (4, 'undone')`);
      seenInside = await trx(PROBE).select('id', 'note');
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    expect(seenInside).toEqual([{ id: 4, note: 'undone' }]);
    expect(await notes()).toEqual([]);
  });

  it('passes on the driver error with its code, and gives the pooled connection back', async () => {
    const single = createDb(database.url, { max: 1 });
    try {
      await runStatement(single, `INSERT INTO ${PROBE} (id, note) VALUES (5, 'first')`);
      const failure: unknown = await runStatement(
        single,
        `INSERT INTO ${PROBE} (id, note) VALUES (5, 'again')`,
      ).catch((error: unknown) => error);
      expect(isDuplicateKey(failure)).toBe(true);
      // With one connection in the pool, this times out unless both statements gave theirs back.
      await runStatement(single, `INSERT INTO ${PROBE} (id, note) VALUES (6, 'after')`);
    } finally {
      await single.destroy();
    }
    expect(await notes()).toEqual([
      { id: 5, note: 'first' },
      { id: 6, note: 'after' },
    ]);
  });
});
