/** The uploads API: its responses and route definitions (the body is a file, read by routes.ts). */
import type { UploadFormat } from '../../db/uploads';
import type { UploadStatus as WorkflowUploadStatus } from '../../workflows/uploads/messages';
import { apiRoute } from '../http/route';
import { Id, jsonResponse, NoQuery, problem, shared, Timestamp } from '../http/schemas';
import { z } from '../http/zod';

const UPLOAD_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'COMPLETED_WITH_ERRORS',
  'FAILED',
] as const satisfies readonly WorkflowUploadStatus[];
const UPLOAD_FORMATS = ['csv', 'xml'] as const satisfies readonly UploadFormat[];

const UploadStatus = z.enum(UPLOAD_STATUSES).openapi('UploadStatus');

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
      400: problem('An unknown query parameter (the operation takes none)'),
      413: problem('The file is larger than the configured upload limit'),
      415: problem('Not text/csv, application/xml or multipart/form-data'),
      422: problem('The file cannot be read: not UTF-8, a wrong CSV header, malformed XML or an XML DOCTYPE'),
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
