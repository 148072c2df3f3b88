/** The export API: its query, parsed into the export's filter, and its route definition. */
import { parseTimestamp } from '../../domain/timestamps';
import { apiRoute } from '../http/route';
import { problem } from '../http/schemas';
import { z } from '../http/zod';
import { orderStatus } from '../orders/schemas';

const EXPORT_FORMATS = ['csv', 'xml'] as const;

/** A parameter given twice arrives as an array: refused, rather than one of the values picked silently. */
const once = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (!Array.isArray(value)) return value;
    ctx.addIssue({ code: 'custom', message: 'must be given at most once', input: value });
    return z.NEVER;
  }, schema);

const TIMESTAMP_PROBLEMS = {
  malformed: 'must be an ISO 8601 date-time with a time zone',
  invalid: 'must be a valid date and time',
  out_of_range: 'must be within the years 1000 to 9999',
};

/**
 * An ISO 8601 date-time with a time zone (RFC 3339 profile; seconds optional), in the years DATETIME
 * holds. Digits below the millisecond round up, so the bound selects exactly the rows the precise instant would.
 */
const bound = (description: string, example: string) =>
  once(
    z
      .string()
      .transform((text, ctx) => {
        const parsed = parseTimestamp(text, { secondsOptional: true, subMillisecond: 'round-up' });
        if (typeof parsed === 'number') return new Date(parsed);
        // A raw "+" in a query string arrives as a space.
        const plusHint = text.includes(' ') ? '; encode "+" in a UTC offset as %2B' : '';
        ctx.addIssue({
          code: 'custom',
          message: `${TIMESTAMP_PROBLEMS[parsed]}, such as 2026-03-01T00:00:00Z${plusHint}`,
        });
        return z.NEVER;
      })
      .optional(),
  ).openapi({ type: 'string', format: 'date-time', description, examples: [example] });

export const ExportQuery = z
  .strictObject({
    format: once(
      z.enum(EXPORT_FORMATS, { error: `is required and must be one of ${EXPORT_FORMATS.join(', ')}` }),
    ),
    status: once(orderStatus().optional()).openapi({ description: 'Only orders in this status' }),
    from: bound(
      'Only orders created at or after this instant: an ISO 8601 date-time with a time zone (encode `+` as `%2B`)',
      '2026-03-01T00:00:00Z',
    ),
    to: bound(
      'Only orders created before this instant (exclusive); must be later than `from`',
      '2026-04-01T00:00:00Z',
    ),
  })
  .superRefine(({ from, to }, ctx) => {
    if (from && to && from.getTime() >= to.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be earlier than to' });
    }
  });

const CSV_DESCRIPTION =
  'UTF-8 without BOM, LF line endings, RFC 4180 quoting. Header: order_id,order_amount,currency,' +
  'order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,' +
  'card_brand,card_last4';
const XML_DESCRIPTION =
  '`<orders><order id amount currency status createdAt><customer email/>' +
  '<payment id amount status method cardBrand cardLast4/>…</order></orders>`';

export const exportApi = {
  exportOrders: apiRoute({
    method: 'get',
    path: '/exports/orders',
    operationId: 'exportOrders',
    summary: 'Download orders and their payments as CSV or XML',
    description:
      'The bulk-upload formats, streamed: one CSV row per payment (an order without payments has one ' +
      'row with empty payment columns), or one `<order>` element holding its `<payment>` elements. ' +
      'Orders come in `orderId` order. Customer emails are included; card numbers never are, only ' +
      '`card_brand` and `card_last4`. CSV cells starting with `=`, `+`, `-`, `@`, tab or CR get a ' +
      "leading `'` so spreadsheets do not run them as formulas. The file is not a point-in-time " +
      'snapshot: orders changing during a long download appear as they were when their batch was ' +
      'read. If the export fails after the download has started (a row that cannot be read, the database ' +
      'gone), the connection is cut before the end of the response: the chunked transfer lacks its ' +
      'terminating chunk, so an HTTP client reports an incomplete body (and an XML file lacks its closing ' +
      '`</orders>`) — never a shorter file that looks complete. The API logs the order and the reason.',
    tags: ['exports'],
    roles: ['operator'],
    request: { query: ExportQuery },
    responses: {
      200: {
        description: 'The file, as an attachment named `orders-<UTC timestamp>.<format>`',
        headers: z.object({
          'Content-Disposition': z
            .string()
            .openapi({ examples: ['attachment; filename="orders-20260301T091500Z.csv"'] }),
        }),
        content: {
          'text/csv': { schema: z.string().openapi({ description: CSV_DESCRIPTION }) },
          'application/xml': { schema: z.string().openapi({ description: XML_DESCRIPTION }) },
        },
      },
      400: problem(
        'A missing or unknown `format`, a bad `status`, `from` or `to`, `from` not before `to`, a ' +
          'parameter given twice, or an unknown query parameter',
      ),
      500: problem(
        'A stored order cannot be read (a value sealed under an unknown key, or tampered with) before the ' +
          'first byte: `detail` names the order and the reason, `orderId` the order',
      ),
    },
  }),
};
