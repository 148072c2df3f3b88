/** The reconciliation API for operators: its query, responses and route definition. */
import { FINDING_KINDS } from '../../workflows/reconciliation/messages';
import { nextCursorField, pageQuery } from '../http/pages';
import { apiRoute } from '../http/route';
import { Amount, jsonResponse, shared, Timestamp } from '../http/schemas';
import { z } from '../http/zod';

export const ListReconciliationsQuery = z.strictObject(pageQuery);
export type ListReconciliationsQuery = z.output<typeof ListReconciliationsQuery>;

const Money = z
  .strictObject({
    currency: z.string().regex(/^[A-Z]{3}$/),
    minorUnits: z.number().int().openapi({ description: 'The amount in minor units (cents), exactly' }),
    amount: Amount.optional().openapi({
      description:
        'The same amount as a decimal string in the major unit; absent for a currency durapay does not know',
    }),
  })
  .openapi('ReconciliationAmount');

export const ReconciliationFinding = z
  .strictObject({
    kind: z.enum(FINDING_KINDS).openapi({
      description:
        'CHARGE_WITHOUT_PAYMENT: the provider charged, but no payment of that ID is COMPLETED. ' +
        'PAYMENT_WITHOUT_CHARGE: a card payment is COMPLETED, but the provider has no charge under its key. ' +
        'DUPLICATE_CHARGE: a charge names a COMPLETED payment, but another charge is the one under its key. ' +
        "AMOUNT_MISMATCH, CURRENCY_MISMATCH: the charge differs from its payment's amount or currency.",
    }),
    paymentId: z
      .string()
      .nullable()
      .openapi({ description: 'The payment concerned (as the charge names it)' }),
    chargeId: z.string().nullable().openapi({ description: "The provider's charge concerned" }),
    expected: Money.nullable().openapi({ description: 'What the payment records' }),
    actual: Money.nullable().openapi({ description: 'What the provider charged' }),
    detectedAt: Timestamp,
  })
  .openapi('ReconciliationFinding');

export const MAX_FINDINGS_PER_RUN = 100;

export const ReconciliationRun = z
  .strictObject({
    runId: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED']),
    startedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    window: z.strictObject({ chargesSince: Timestamp, paymentsSince: Timestamp, until: Timestamp }).openapi({
      description:
        'Charges created and card payments completed in [since, until): from the last watermark, less an ' +
        'overlap, until the start of the run less the grace period',
    }),
    chargesExamined: z.number().int().min(0),
    paymentsExamined: z.number().int().min(0),
    findingsCount: z
      .number()
      .int()
      .min(0)
      .openapi({ description: 'New findings of this run; 0 when all agreed' }),
    findings: z.array(ReconciliationFinding).openapi({
      description: `The run's first ${MAX_FINDINGS_PER_RUN} findings, oldest first`,
    }),
  })
  .openapi('ReconciliationRun');
export type ReconciliationRun = z.input<typeof ReconciliationRun>;

export const ReconciliationList = z
  .strictObject({
    items: z.array(ReconciliationRun),
    nextCursor: nextCursorField(),
  })
  .openapi('ReconciliationList');

export const reconciliationApi = {
  listReconciliations: apiRoute({
    method: 'get',
    path: '/admin/reconciliations',
    operationId: 'listReconciliations',
    summary: 'Reconciliation runs, newest first, with what they found',
    description:
      "Each run of the reconciliation schedule compares the provider's charges with the payments and records " +
      'what disagrees; a run that finds nothing is listed with `findingsCount` 0. A finding is recorded ' +
      'once, by the first run that sees it. Keyset pagination: pass `nextCursor` back as `cursor`.',
    tags: ['reconciliation'],
    roles: ['operator'],
    request: { query: ListReconciliationsQuery },
    responses: {
      200: jsonResponse('A page of runs', ReconciliationList),
      400: shared('BadRequest'),
    },
  }),
};
