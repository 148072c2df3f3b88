/**
 * The reconciliation workflow's contract, shared by the workflow, its activities, the schedule and the API.
 * Payloads carry run IDs, counts and settings, never charges or cards.
 */

/** The one schedule that starts the reconciliation runs. */
export const RECONCILIATION_SCHEDULE_ID = 'reconciliation';
/** The schedule names each run `<this>-<scheduled time>`; a run started by hand picks its own ID. */
export const RECONCILIATION_WORKFLOW_ID_PREFIX = 'reconciliation';

/** What a run reports: charges without a completed payment, completed payments without a charge, a second
 * charge for a payment (under another idempotency key), and the charges whose amount or currency differ
 * from their payment's. */
export const FINDING_KINDS = [
  'CHARGE_WITHOUT_PAYMENT',
  'PAYMENT_WITHOUT_CHARGE',
  'DUPLICATE_CHARGE',
  'AMOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface ReconciliationSettings {
  /** Charges and payments younger than this at the run's start wait for the next run (they may be in flight). */
  graceMs: number;
  /** Charges or payments per page (one activity, one transaction). */
  pageSize: number;
  /** Pages per workflow run before it continues as new, so history stays small. */
  pagesPerRun: number;
}

export interface ReconciliationInput extends ReconciliationSettings {
  /** Carried across continue-as-new: the run being continued and the next page's number. */
  carried?: { runId: string; page: number };
}

export interface PageInput {
  runId: string;
  /** The page's number in the run: a retry of a committed page answers what it committed. */
  page: number;
  pageSize: number;
}

export interface RunProgress {
  runId: string;
  done: boolean;
  chargesExamined: number;
  paymentsExamined: number;
  findingsCount: number;
}

/** The provider cannot be read at all (no URL or key configured): retrying does not help. */
export const PROVIDER_NOT_CONFIGURED = 'ProviderNotConfigured';
