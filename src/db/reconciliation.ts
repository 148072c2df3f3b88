/**
 * The reconciliation runs, their findings and the watermarks (migration `reconciliation`), and the reads of
 * payments that reconciliation compares with the provider's charges.
 */
import type { Knex } from 'knex';
import { isDuplicateKey, type Db } from './knex';
import { ORDERS, PAYMENTS } from './orders';

const RUNS = 'reconciliation_runs';
const FINDINGS = 'reconciliation_findings';
const WATERMARKS = 'reconciliation_watermarks';

export type RunPhase = 'CHARGES' | 'PAYMENTS' | 'DONE';
export type WatermarkSource = 'charges' | 'payments';

export interface RunRow {
  run_id: string;
  charges_since: Date;
  payments_since: Date;
  cutoff: Date;
  phase: RunPhase;
  cursor: string | null;
  pages_done: number;
  charges_examined: number;
  payments_examined: number;
  findings_count: number;
  started_at: Date;
  finished_at: Date | null;
}

export interface Finding {
  kind: string;
  /** The charge or payment the finding is about: with the kind, it makes the finding unique. */
  subject: string;
  paymentId: string | null;
  chargeId: string | null;
  /** What durapay recorded, in minor units. */
  expected: { amount: number; currency: string } | null;
  /** What the provider charged, in minor units. */
  actual: { amount: number; currency: string } | null;
}

export interface FindingRow {
  finding_id: string;
  run_id: string;
  kind: string;
  subject: string;
  payment_id: string | null;
  charge_id: string | null;
  expected_amount: string | null;
  expected_currency: string | null;
  actual_amount: string | null;
  actual_currency: string | null;
  detected_at: Date;
}

export async function watermarks(db: Db): Promise<Partial<Record<WatermarkSource, Date>>> {
  const rows = await db<{ source: WatermarkSource; watermark: Date }>(WATERMARKS).select(
    'source',
    'watermark',
  );
  return Object.fromEntries(rows.map((row) => [row.source, row.watermark]));
}

/** Records the run unless it exists (a retried start), and answers the stored one either way. */
export async function insertRun(
  db: Db,
  run: Pick<RunRow, 'run_id' | 'charges_since' | 'payments_since' | 'cutoff' | 'started_at'>,
): Promise<RunRow> {
  try {
    await db(RUNS).insert({ ...run, phase: 'CHARGES' });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  return (await findRun(db, run.run_id))!;
}

export async function findRun(db: Db | Knex.Transaction, runId: string): Promise<RunRow | undefined> {
  return db<RunRow>(RUNS).where({ run_id: runId }).first();
}

export interface PageCommit {
  runId: string;
  /** The page's number: it commits only if the run has committed exactly the pages before it. */
  page: number;
  phase: RunPhase;
  cursor: string | null;
  chargesExamined: number;
  paymentsExamined: number;
  findings: Finding[];
  watermark: { source: WatermarkSource; at: Date };
}

/**
 * One page's findings, counts, next position and watermark, in one transaction. False when the page was
 * committed already (a retry after a commit whose answer was lost): then nothing changes.
 */
export async function commitPage(db: Db, commit: PageCommit, now: Date): Promise<boolean> {
  return db.transaction(async (trx) => {
    const run = await trx<RunRow>(RUNS).where({ run_id: commit.runId }).forUpdate().first();
    if (!run || run.pages_done !== commit.page) return false;
    let inserted = 0;
    for (const finding of commit.findings) {
      if (await insertFinding(trx, commit.runId, finding, now)) inserted += 1;
    }
    await trx(RUNS)
      .where({ run_id: commit.runId })
      .update({
        phase: commit.phase,
        cursor: commit.cursor,
        pages_done: commit.page + 1,
        charges_examined: trx.raw('charges_examined + ?', [commit.chargesExamined]),
        payments_examined: trx.raw('payments_examined + ?', [commit.paymentsExamined]),
        findings_count: trx.raw('findings_count + ?', [inserted]),
        ...(commit.phase === 'DONE' ? { finished_at: now } : {}),
      });
    await trx.raw(
      `INSERT INTO ${WATERMARKS} (source, watermark) VALUES (?, ?)
       ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark))`,
      [commit.watermark.source, commit.watermark.at],
    );
    return true;
  });
}

/** False when the same kind of finding about the same subject exists already, from this run or an earlier one. */
async function insertFinding(trx: Knex.Transaction, runId: string, finding: Finding, now: Date) {
  try {
    await trx(FINDINGS).insert({
      run_id: runId,
      kind: finding.kind,
      subject: finding.subject,
      payment_id: finding.paymentId,
      charge_id: finding.chargeId,
      expected_amount: finding.expected?.amount ?? null,
      expected_currency: finding.expected?.currency ?? null,
      actual_amount: finding.actual?.amount ?? null,
      actual_currency: finding.actual?.currency ?? null,
      detected_at: now,
    });
    return true;
  } catch (error) {
    // MariaDB undoes only the statement, so the transaction goes on.
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

export interface ReconciledPayment {
  payment_id: string;
  payment_status: string;
  payment_amount: string;
  currency: string;
  updated_at: Date;
}

const paymentColumns = [
  `${PAYMENTS}.payment_id`,
  `${PAYMENTS}.payment_status`,
  `${PAYMENTS}.payment_amount`,
  `${ORDERS}.currency`,
  `${PAYMENTS}.updated_at`,
];

export async function paymentsByIds(db: Db, paymentIds: string[]): Promise<ReconciledPayment[]> {
  if (paymentIds.length === 0) return [];
  return db(PAYMENTS)
    .join(ORDERS, `${ORDERS}.order_id`, `${PAYMENTS}.order_id`)
    .whereIn(`${PAYMENTS}.payment_id`, paymentIds)
    .select(paymentColumns) as Promise<ReconciledPayment[]>;
}

/**
 * Card payments made through the API (imported ones carry no request hash and were never charged by
 * durapay) that completed in [since, cutoff), by completion time then ID, after the keyset position `after`.
 * A payment's last update is its completion: nothing updates a final payment but that.
 */
export async function completedCardPayments(
  db: Db,
  query: { since: Date; cutoff: Date; after?: { at: Date; paymentId: string }; limit: number },
): Promise<ReconciledPayment[]> {
  const rows = db(PAYMENTS)
    .join(ORDERS, `${ORDERS}.order_id`, `${PAYMENTS}.order_id`)
    .where(`${PAYMENTS}.payment_status`, 'COMPLETED')
    .where(`${PAYMENTS}.payment_method`, 'CARD')
    .whereNotNull(`${PAYMENTS}.request_hash`)
    .where(`${PAYMENTS}.updated_at`, '>=', query.since)
    .where(`${PAYMENTS}.updated_at`, '<', query.cutoff)
    .orderBy([
      { column: `${PAYMENTS}.updated_at`, order: 'asc' },
      { column: `${PAYMENTS}.payment_id`, order: 'asc' },
    ])
    .limit(query.limit)
    .select(paymentColumns);
  if (query.after) {
    void rows.whereRaw(`(${PAYMENTS}.updated_at, ${PAYMENTS}.payment_id) > (?, ?)`, [
      query.after.at,
      query.after.paymentId,
    ]);
  }
  return (await rows) as ReconciledPayment[];
}

/** Runs newest first, keyset-paged on (started_at, run_id). */
export async function listRuns(
  db: Db,
  query: { limit: number; after?: { at: Date; id: string } },
): Promise<RunRow[]> {
  const rows = db<RunRow>(RUNS)
    .orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'run_id', order: 'desc' },
    ])
    .limit(query.limit);
  if (query.after) {
    void rows.whereRaw('(started_at, run_id) < (?, ?)', [query.after.at, query.after.id]);
  }
  return rows;
}

/** The first `perRun` findings of each run, oldest first; a run's `findings_count` says how many there are. */
export async function findingsOfRuns(db: Db, runIds: string[], perRun: number): Promise<FindingRow[]> {
  if (runIds.length === 0) return [];
  const numbered = db(FINDINGS)
    .whereIn('run_id', runIds)
    .select('*', db.raw('ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY finding_id) AS n'));
  const rows = (await db
    .from(numbered.as('f'))
    .where('n', '<=', perRun)
    .orderBy('finding_id')) as (FindingRow & { n: number })[];
  return rows.map(({ n: _n, ...row }) => row);
}
