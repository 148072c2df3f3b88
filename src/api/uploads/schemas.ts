/** The uploads API: its responses and route definitions (the body is a file, read by routes.ts). */
import type { UploadFormat } from '../../db/uploads';
import { UPLOAD_STATUSES } from '../../domain/uploads/statuses';
import { nextCursorField, pageQuery } from '../http/pages';
import { apiRoute } from '../http/route';
import { Id, jsonResponse, NoQuery, problem, shared, Timestamp } from '../http/schemas';
import { z } from '../http/zod';

const UPLOAD_FORMATS = ['csv', 'xml'] as const satisfies readonly UploadFormat[];

const uploadStatus = () => z.enum(UPLOAD_STATUSES, { error: `must be one of ${UPLOAD_STATUSES.join(', ')}` });
const UploadStatus = uploadStatus().openapi('UploadStatus', {
  description:
    'RUNNING while chunks import; then COMPLETED, COMPLETED_WITH_ERRORS (rows or chunks rejected), FAILED ' +
    '(no chunk could be imported) or CANCELLED (by an operator: the committed chunks stay imported)',
});

export const UploadAccepted = z
  .strictObject({
    uploadId: Id,
    status: UploadStatus,
    duplicate: z.boolean().openapi({ description: 'The same file was uploaded before; this is that upload' }),
  })
  .openapi('UploadAccepted');
export type UploadAccepted = z.input<typeof UploadAccepted>;

const count = z.number().int().min(0);

export const Upload = z
  .strictObject({
    uploadId: Id,
    status: UploadStatus,
    format: z.enum(UPLOAD_FORMATS),
    rowsTotal: count,
    rowsImported: count,
    rowsRejected: count,
    chunks: z.strictObject({ total: count, completed: count, failed: count }),
    startedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    errors: z
      .array(
        z.strictObject({
          line: z.number().int(),
          orderId: z.string().optional(),
          field: z.string(),
          reason: z.string(),
        }),
      )
      .openapi({ description: 'The first rejected rows; the full report is at /uploads/{uploadId}/errors' }),
  })
  .openapi('Upload');
export type Upload = z.input<typeof Upload>;

export const UploadSummary = Upload.omit({ errors: true }).openapi('UploadSummary');
export type UploadSummary = z.input<typeof UploadSummary>;

export const UploadList = z
  .strictObject({ items: z.array(UploadSummary), nextCursor: nextCursorField() })
  .openapi('UploadList');
export type UploadList = z.input<typeof UploadList>;

export const ListUploadsQuery = z.strictObject({
  status: uploadStatus().optional().openapi({ description: 'Only uploads in this status' }),
  ...pageQuery,
});

export const UploadCancelAccepted = z
  .strictObject({
    uploadId: Id,
    status: UploadStatus.openapi({
      description: 'Still RUNNING until the chunks in flight have ended; then CANCELLED',
    }),
  })
  .openapi('UploadCancelAccepted');
export type UploadCancelAccepted = z.input<typeof UploadCancelAccepted>;

const uploadParams = z.object({ uploadId: Id });
const text = z.string();

export const uploadApi = {
  createUpload: apiRoute({
    method: 'post',
    path: '/uploads',
    operationId: 'createUpload',
    summary: 'Upload a CSV or XML file of orders and payments',
    description:
      'The body is the file: raw `text/csv` or `application/xml`, or `multipart/form-data` with a `file` ' +
      'field. It is streamed into staging, then imported chunk by chunk by the upload workflow. The same ' +
      'file uploaded again answers the first upload (`duplicate: true`) and imports nothing twice. A bad ' +
      'row rejects its whole order; every other order is imported.',
    tags: ['uploads'],
    roles: ['operator'],
    request: { query: NoQuery },
    documentedBody: {
      required: true,
      content: {
        'text/csv': { schema: text },
        'application/xml': { schema: text },
        'multipart/form-data': {
          schema: z.object({ file: z.string().openapi({ description: 'The .csv or .xml file' }) }),
        },
      },
    },
    responses: {
      202: jsonResponse('Staged; follow `Location`', UploadAccepted, { location: true }),
      400: problem(
        'An unknown query parameter (the operation takes none), or a malformed multipart form (no boundary, cut short)',
      ),
      413: problem('The file is larger than the configured upload limit'),
      415: problem('Not text/csv, application/xml or multipart/form-data'),
      422: problem('The file cannot be read: not UTF-8, a wrong CSV header, malformed XML or an XML DOCTYPE'),
    },
  }),
  listUploads: apiRoute({
    method: 'get',
    path: '/uploads',
    operationId: 'listUploads',
    summary: 'List uploads, newest first',
    description:
      'Keyset pagination: pass `nextCursor` back as `cursor` for the next page. Counts of a RUNNING upload ' +
      'are those of its committed chunks. Unknown query parameters are refused.',
    tags: ['uploads'],
    roles: ['operator'],
    request: { query: ListUploadsQuery },
    responses: {
      200: jsonResponse('A page of uploads (without their errors)', UploadList),
      400: shared('BadRequest'),
    },
  }),
  cancelUpload: apiRoute({
    method: 'post',
    path: '/uploads/:uploadId/cancel',
    operationId: 'cancelUpload',
    summary: 'Cancel a running upload',
    description:
      'No further chunk starts; a chunk in flight commits whole or not at all. The upload then ends ' +
      '`CANCELLED`, its `rowsImported` counting the rows of the committed chunks, which stay imported. ' +
      'Asking again while it cancels answers 202 again.',
    tags: ['uploads'],
    roles: ['operator'],
    request: { params: uploadParams, query: NoQuery },
    responses: {
      202: jsonResponse('Cancelling; follow `Location`', UploadCancelAccepted, { location: true }),
      400: shared('BadRequest'),
      404: shared('NotFound'),
      409: problem('The upload has already ended (its status is final)'),
    },
  }),
  getUpload: apiRoute({
    method: 'get',
    path: '/uploads/:uploadId',
    operationId: 'getUpload',
    summary: 'Status, counts, chunk progress and the first rejected rows of an upload',
    tags: ['uploads'],
    roles: ['operator'],
    request: { params: uploadParams, query: NoQuery },
    responses: {
      200: jsonResponse('The upload', Upload),
      400: shared('BadRequest'),
      404: shared('NotFound'),
    },
  }),
  getUploadErrors: apiRoute({
    method: 'get',
    path: '/uploads/:uploadId/errors',
    operationId: 'getUploadErrors',
    summary: 'Every rejected row of an upload, as CSV (line, order_id, field, reason)',
    tags: ['uploads'],
    roles: ['operator'],
    request: { params: uploadParams, query: NoQuery },
    responses: {
      200: { description: 'The error report', content: { 'text/csv': { schema: text } } },
      400: shared('BadRequest'),
      404: shared('NotFound'),
    },
  }),
};
