import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../db/knex';
import {
  commitPage,
  completedCardPayments,
  findRun,
  insertRun,
  paymentsByIds,
  watermarks,
  type Finding,
  type PageCommit,
  type ReconciledPayment,
  type RunRow,
} from '../../db/reconciliation';
import { parseDbDecimal } from '../../domain/money';
import { chargeDisagreement } from '../../domain/payments/reconciliation';
import {
  PROVIDER_NOT_CONFIGURED,
  type PageInput,
  type RunProgress,
} from '../../workflows/reconciliation/messages';
import { paymentIdempotencyKey } from '../orders';
import type { ProviderCharge, ProviderCharges } from './provider-charges';

export interface ReconciliationActivityDeps {
  db: Db;
  /** The provider's charges; absent when no provider is configured, and then runs fail saying so. */
  providerCharges?: ProviderCharges;
  now?: () => Date;
}

/**
 * How far before its watermark a run reads again. A charge committed at the provider after a later one was
 * listed, or a payment whose completion committed late, is then still read; findings are keyed, so reading
 * twice records nothing twice.
 */
const OVERLAP_MS = 5 * 60_000;
/** Key look-ups at the provider in flight at once, for a page of payments. */
const LOOKUPS_IN_FLIGHT = 8;

export function createReconciliationActivities({
  db,
  providerCharges,
  now = () => new Date(),
}: ReconciliationActivityDeps) {
  function provider(): ProviderCharges {
    if (providerCharges) return providerCharges;
    throw ApplicationFailure.nonRetryable(
      'reconciliation reads the payment provider: set DURAPAY_GATEWAY_URL and DURAPAY_GATEWAY_KEY',
      PROVIDER_NOT_CONFIGURED,
    );
  }

  /** A page of the provider's charges created in the window, each checked against its payment. */
  async function chargesPage(run: RunRow, page: number, pageSize: number): Promise<PageCommit> {
    const listed = await provider().listCharges({
      createdGte: run.charges_since,
      startingAfter: run.cursor ?? undefined,
      limit: pageSize,
    });
    // Younger charges wait for the next run: their payments may still be in flight.
    const examined = listed.charges.filter((charge) => charge.created < run.cutoff);
    const finished = examined.length < listed.charges.length || !listed.hasMore;
    const payments = new Map(
      (await paymentsByIds(db, [...new Set(examined.flatMap((charge) => charge.paymentId ?? []))])).map(
        (payment) => [payment.payment_id, payment],
      ),
    );
    // A completed payment's own charge is the one under its key; any other charge naming it is a second one.
    const completed = [...payments.values()].filter((payment) => payment.payment_status === 'COMPLETED');
    const keyed = await mapInFlight(completed, LOOKUPS_IN_FLIGHT, (payment) =>
      provider().findChargeByKey(paymentIdempotencyKey(payment.payment_id)),
    );
    const chargeUnderKey = new Map(completed.map((payment, i) => [payment.payment_id, keyed[i]?.id ?? null]));
    const findings = examined.flatMap((charge) => {
      const payment = charge.paymentId === undefined ? undefined : payments.get(charge.paymentId);
      const finding = compare(charge, payment, payment && chargeUnderKey.get(payment.payment_id));
      return finding ? [finding] : [];
    });
    return {
      runId: run.run_id,
      page,
      phase: finished ? 'PAYMENTS' : 'CHARGES',
      cursor: finished ? null : (listed.charges.at(-1)?.id ?? null),
      chargesExamined: examined.length,
      paymentsExamined: 0,
      findings,
      watermark: {
        source: 'charges',
        at: finished ? run.cutoff : (latest(examined.map((charge) => charge.created)) ?? run.charges_since),
      },
    };
  }

  /** A page of the card payments completed in the window, each looked up at the provider by its key. */
  async function paymentsPage(run: RunRow, page: number, pageSize: number): Promise<PageCommit> {
    const after = run.cursor ? (JSON.parse(run.cursor) as [string, string]) : undefined;
    const payments = await completedCardPayments(db, {
      since: run.payments_since,
      cutoff: run.cutoff,
      after: after && { at: new Date(after[0]), paymentId: after[1] },
      limit: pageSize,
    });
    const charges = await mapInFlight(payments, LOOKUPS_IN_FLIGHT, (payment) =>
      provider().findChargeByKey(paymentIdempotencyKey(payment.payment_id)),
    );
    const findings = payments.flatMap((payment, i) => {
      const charge = charges[i];
      const finding = charge
        ? compare(charge, payment)
        : {
            kind: 'PAYMENT_WITHOUT_CHARGE',
            subject: payment.payment_id,
            paymentId: payment.payment_id,
            chargeId: null,
            expected: recorded(payment),
            actual: null,
          };
      return finding ? [finding] : [];
    });
    const last = payments.at(-1);
    const finished = payments.length < pageSize;
    return {
      runId: run.run_id,
      page,
      phase: finished ? 'DONE' : 'PAYMENTS',
      cursor: finished || !last ? null : JSON.stringify([last.updated_at.toISOString(), last.payment_id]),
      chargesExamined: 0,
      paymentsExamined: payments.length,
      findings,
      watermark: { source: 'payments', at: finished || !last ? run.cutoff : last.updated_at },
    };
  }

  return {
    /**
     * Records the run (once, whatever the retries) with its window: from each watermark, less an overlap,
     * until now less the grace period. Answers the run's ID.
     */
    async startReconciliationRun({ runId, graceMs }: { runId: string; graceMs: number }): Promise<string> {
      provider();
      const started = now();
      const marks = await watermarks(db);
      const since = (mark: Date | undefined) => new Date(Math.max(0, (mark?.getTime() ?? 0) - OVERLAP_MS));
      const run = await insertRun(db, {
        run_id: runId,
        charges_since: since(marks.charges),
        payments_since: since(marks.payments),
        cutoff: new Date(started.getTime() - graceMs),
        started_at: started,
      });
      return run.run_id;
    },

    /**
     * Reconciles the run's next page and commits it. A retry of a page already committed commits nothing and
     * answers the run as it stands.
     */
    async reconcilePage({ runId, page, pageSize }: PageInput): Promise<RunProgress> {
      const run = await findRun(db, runId);
      if (!run) throw ApplicationFailure.nonRetryable(`no reconciliation run ${runId}`);
      if (run.pages_done === page && run.phase !== 'DONE') {
        const commit =
          run.phase === 'CHARGES'
            ? await chargesPage(run, page, pageSize)
            : await paymentsPage(run, page, pageSize);
        await commitPage(db, commit, now());
      }
      return progressOf((await findRun(db, runId))!);
    },
  };
}

function compare(
  charge: ProviderCharge,
  payment: ReconciledPayment | undefined,
  chargeUnderKey?: string | null,
): Finding | undefined {
  const kind = chargeDisagreement(
    charge,
    payment && { ...recorded(payment), status: payment.payment_status, chargeId: chargeUnderKey },
  );
  return (
    kind && {
      kind,
      subject: charge.id,
      paymentId: charge.paymentId ?? null,
      chargeId: charge.id,
      expected: payment && kind !== 'CHARGE_WITHOUT_PAYMENT' ? recorded(payment) : null,
      actual: { amount: charge.amount, currency: charge.currency },
    }
  );
}

function recorded(payment: ReconciledPayment) {
  return { amount: parseDbDecimal(payment.payment_amount, payment.currency), currency: payment.currency };
}

function progressOf(run: RunRow): RunProgress {
  return {
    runId: run.run_id,
    done: run.phase === 'DONE',
    chargesExamined: run.charges_examined,
    paymentsExamined: run.payments_examined,
    findingsCount: run.findings_count,
  };
}

function latest(dates: Date[]): Date | undefined {
  return dates.reduce<Date | undefined>((max, date) => (max && max >= date ? max : date), undefined);
}

/** `fn` over the items with at most `limit` in flight, results in the items' order. */
async function mapInFlight<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
