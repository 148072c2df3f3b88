import Router from '@koa/router';
import type { Db } from '../../db/knex';
import { findingsOfRuns, listRuns, type FindingRow, type RunRow } from '../../db/reconciliation';
import { isCurrency } from '../../domain/currencies';
import { formatAmount } from '../../domain/money';
import type { FindingKind } from '../../workflows/reconciliation/messages';
import { addRoute } from '../http/route';
import { nextCursor } from '../http/pages';
import { MAX_FINDINGS_PER_RUN, reconciliationApi, type ReconciliationRun } from './schemas';

/** Operators read what the reconciliation runs found. */
export function reconciliationRoutes({ db }: { db: Db }): Router {
  const router = new Router();

  addRoute(router, reconciliationApi.listReconciliations, async (ctx, { query }) => {
    const runs = await listRuns(db, { limit: query.limit, ...(query.cursor && { after: query.cursor }) });
    const findings = await findingsOfRuns(
      db,
      runs.map((run) => run.run_id),
      MAX_FINDINGS_PER_RUN,
    );
    ctx.body = {
      items: runs.map((run) =>
        runView(
          run,
          findings.filter((finding) => finding.run_id === run.run_id),
        ),
      ),
      nextCursor: nextCursor(runs, query.limit, (run) => ({ at: run.started_at, id: run.run_id })),
    };
  });

  return router;
}

function runView(run: RunRow, findings: FindingRow[]): ReconciliationRun {
  return {
    runId: run.run_id,
    status: run.finished_at ? 'COMPLETED' : 'RUNNING',
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    window: {
      chargesSince: run.charges_since.toISOString(),
      paymentsSince: run.payments_since.toISOString(),
      until: run.cutoff.toISOString(),
    },
    chargesExamined: run.charges_examined,
    paymentsExamined: run.payments_examined,
    findingsCount: run.findings_count,
    findings: findings.map((finding) => ({
      kind: finding.kind as FindingKind,
      paymentId: finding.payment_id,
      chargeId: finding.charge_id,
      expected: money(finding.expected_amount, finding.expected_currency),
      actual: money(finding.actual_amount, finding.actual_currency),
      detectedAt: finding.detected_at.toISOString(),
    })),
  };
}

/** BIGINT minor units (a string from the driver) with their currency. */
function money(minor: string | null, currency: string | null) {
  if (minor === null || currency === null) return null;
  const minorUnits = Number(minor);
  return {
    currency,
    minorUnits,
    ...(isCurrency(currency) && { amount: formatAmount(minorUnits, currency) }),
  };
}
