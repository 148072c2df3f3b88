/**
 * reconciliationWorkflow — started by the `reconciliation` schedule (or by hand): compares the provider's
 * charges with the payments and records what disagrees.
 *
 * Input: the grace period, page size and pages per run. States: a run walks the provider's charges created
 * since the last watermark, then the card payments completed since then, one page per activity; the result
 * is the run's counts. Guarantees: each page commits its findings, the run's counts and the watermark in one
 * transaction, and a retried page commits nothing twice. After `pagesPerRun` pages the workflow continues as
 * new with the same run, so its history stays small for any volume.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createReconciliationActivities } from '../../activities/reconciliation';
import { PROVIDER_NOT_CONFIGURED, type ReconciliationInput, type RunProgress } from './messages';

type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;

/** A page is one provider call (or a few key look-ups) and one transaction; provider outages are retried. */
const { startReconciliationRun, reconcilePage } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [PROVIDER_NOT_CONFIGURED],
  },
});

export async function reconciliationWorkflow(input: ReconciliationInput): Promise<RunProgress> {
  const runId =
    input.carried?.runId ??
    (await startReconciliationRun({
      runId: workflowInfo().firstExecutionRunId,
      graceMs: input.graceMs,
    }));
  let page = input.carried?.page ?? 0;
  for (let pages = 0; pages < input.pagesPerRun; pages += 1) {
    const progress = await reconcilePage({ runId, page, pageSize: input.pageSize });
    page += 1;
    if (progress.done) return progress;
  }
  return continueAsNew<typeof reconciliationWorkflow>({ ...input, carried: { runId, page } });
}
