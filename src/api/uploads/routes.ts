import { Readable } from 'node:stream';
import Router from '@koa/router';
import busboy from 'busboy';
import type { Context } from 'koa';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import {
  committedProgress,
  findUpload,
  listRowErrors,
  listUploads,
  type UploadFormat,
  type UploadRow,
} from '../../db/uploads';
import { csvRecord, csvTextCell } from '../../domain/exports/csv-cells';
import { isFinalUploadStatus, type UploadStatus } from '../../domain/uploads/statuses';
import { UPLOAD_ID } from '../../workflows/search-attributes';
import { uploadProgressQuery, uploadWorkflowId, type ChunkCounts } from '../../workflows/uploads/messages';
import type { uploadWorkflow } from '../../workflows/uploads/upload-workflow';
import { nextCursor } from '../http/pages';
import { Problem } from '../http/problem';
import { addRoute } from '../http/route';
import type { TemporalCalls } from '../http/temporal';
import {
  uploadApi,
  type Upload,
  type UploadAccepted,
  type UploadCancelAccepted,
  type UploadList,
  type UploadSummary,
} from './schemas';
import { stageUpload } from './staging';

export interface UploadRoutesDeps {
  config: Config;
  db: Db;
  client: Client;
  temporal: TemporalCalls;
  cipher: FieldCipher;
  now?: () => Date;
}

const FIRST_ERRORS = 10;
const ERROR_PAGE = 1000;
const LIVE_PROGRESS_DEADLINE_MS = 2000;

/**
 * Bulk uploads: the body is the file (raw text/csv or application/xml, or multipart/form-data with a `file`
 * field), streamed into MySQL staging; then the upload workflow imports it chunk by chunk.
 */
export function uploadRoutes({
  config,
  db,
  client,
  temporal,
  cipher,
  now = () => new Date(),
}: UploadRoutesDeps): Router {
  const router = new Router();

  // The roles and query are checked before the body is read: a caller without the role never gets a byte staged.
  addRoute(router, uploadApi.createUpload, async (ctx) => {
    const { format, body } = await fileOf(ctx);
    const staged = await stageUpload(
      { db, cipher, now },
      { format, body, maxBytes: config.uploads.maxBytes, chunkRows: config.uploads.chunkRows },
    );
    const upload = await findUpload(db, staged.uploadId);
    // A duplicate of a RUNNING upload may be the retry of one whose start failed: starting heals it.
    if (upload?.upload_status === 'RUNNING') {
      await temporal.start<typeof uploadWorkflow>('uploadWorkflow', {
        workflowId: uploadWorkflowId(staged.uploadId),
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            uploadId: staged.uploadId,
            window: config.uploads.window,
            chunksPerRun: config.uploads.chunksPerRun,
          },
        ],
        typedSearchAttributes: [{ key: UPLOAD_ID, value: staged.uploadId }],
        memo: { format, chunksTotal: staged.chunksTotal },
        staticSummary: `Upload ${staged.uploadId} (${format}, ${staged.chunksTotal} chunks)`,
      });
    }
    ctx.status = 202;
    ctx.set('Location', `/uploads/${staged.uploadId}`);
    ctx.body = {
      uploadId: staged.uploadId,
      status: upload && upload.upload_status !== 'RECEIVING' ? upload.upload_status : 'RUNNING',
      duplicate: staged.duplicate,
    } satisfies UploadAccepted;
  });

  addRoute(router, uploadApi.listUploads, async (ctx, { query: { cursor, status, limit } }) => {
    const rows = await listUploads(db, {
      ...(status && { status }),
      limit,
      ...(cursor && { after: { startedAt: cursor.at, uploadId: cursor.id } }),
    });
    // A list asks MySQL, not each running workflow: the rows of the chunks committed so far.
    const items = await Promise.all(
      rows.map(async (row) =>
        summaryOf(
          listed(row),
          row.upload_status === 'RUNNING'
            ? { ...(await committedProgress(db, row.upload_id)), chunksFailed: 0 }
            : undefined,
        ),
      ),
    );
    ctx.body = {
      items,
      nextCursor: nextCursor(rows, limit, (row) => ({ at: row.started_at, id: row.upload_id })),
    } satisfies UploadList;
  });

  addRoute(router, uploadApi.cancelUpload, async (ctx, { params }) => {
    const upload = await requireUpload(params.uploadId);
    if (isFinalUploadStatus(upload.upload_status)) {
      throw new Problem(
        409,
        'Conflict',
        `upload "${upload.upload_id}" has already ended ${upload.upload_status}`,
      );
    }
    await temporal.call(() => client.workflow.getHandle(uploadWorkflowId(upload.upload_id)).cancel());
    ctx.status = 202;
    ctx.set('Location', `/uploads/${upload.upload_id}`);
    ctx.body = { uploadId: upload.upload_id, status: upload.upload_status } satisfies UploadCancelAccepted;
  });

  addRoute(router, uploadApi.getUpload, async (ctx, { params }) => {
    const upload = await requireUpload(params.uploadId);
    const running = upload.upload_status === 'RUNNING' ? await runningProgress(upload.upload_id) : undefined;
    ctx.body = {
      ...summaryOf(upload, running),
      errors: await listRowErrors(db, upload.upload_id, { limit: FIRST_ERRORS }),
    } satisfies Upload;
  });

  /** The upload as its row says, or with the progress a RUNNING one has made so far. */
  function summaryOf(upload: ListedUpload, progress?: LiveProgress): UploadSummary {
    return {
      uploadId: upload.upload_id,
      status: upload.upload_status,
      format: upload.format,
      rowsTotal: upload.rows_total,
      rowsImported: progress?.rowsImported ?? upload.rows_imported,
      rowsRejected: progress?.rowsRejected ?? upload.rows_rejected,
      chunks: {
        total: upload.chunks_total,
        completed: progress?.chunksCompleted ?? upload.chunks_completed,
        failed: progress?.chunksFailed ?? upload.chunks_failed,
      },
      startedAt: upload.started_at.toISOString(),
      finishedAt: upload.finished_at?.toISOString() ?? null,
    };
  }

  addRoute(router, uploadApi.getUploadErrors, async (ctx, { params }) => {
    const upload = await requireUpload(params.uploadId);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="upload-${upload.upload_id}-errors.csv"`);
    ctx.body = Readable.from(errorReport(upload.upload_id));
  });

  async function requireUpload(uploadId: string): Promise<ListedUpload> {
    const upload = await findUpload(db, uploadId);
    if (!upload || upload.upload_status === 'RECEIVING')
      throw new Problem(404, 'Not Found', `no upload "${uploadId}"`);
    return listed(upload);
  }

  /**
   * The workflow knows the progress while it runs. A busy Temporal must not hold a status request up: after a
   * short deadline MySQL answers with the chunks committed so far (only the workflow knows of failed chunks).
   */
  async function runningProgress(uploadId: string): Promise<LiveProgress> {
    try {
      return await temporal.call(
        () => client.workflow.getHandle(uploadWorkflowId(uploadId)).query(uploadProgressQuery),
        LIVE_PROGRESS_DEADLINE_MS,
      );
    } catch {
      return { ...(await committedProgress(db, uploadId)), chunksFailed: 0 };
    }
  }

  async function* errorReport(uploadId: string): AsyncGenerator<string> {
    yield csvRecord(['line', 'order_id', 'field', 'reason']);
    let after: { line: number; field: string } | undefined;
    for (;;) {
      const page = await listRowErrors(db, uploadId, { ...(after ? { after } : {}), limit: ERROR_PAGE });
      if (page.length === 0) return;
      yield page
        .map((error) =>
          csvRecord([
            String(error.line),
            csvTextCell(error.orderId),
            csvTextCell(error.field),
            csvTextCell(error.reason),
          ]),
        )
        .join('');
      const last = page.at(-1)!;
      after = { line: last.line, field: last.field };
    }
  }

  return router;
}

type LiveProgress = ChunkCounts & { chunksCompleted: number; chunksFailed: number };

/** An upload past RECEIVING: the only kind the API shows. */
type ListedUpload = UploadRow & { upload_status: UploadStatus };
const listed = (upload: UploadRow): ListedUpload => ({
  ...upload,
  upload_status: upload.upload_status === 'RECEIVING' ? 'RUNNING' : upload.upload_status,
});

const FORMATS: Record<string, UploadFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

/** The uploaded file as a byte stream, and its format from its media type (or, in a form, its name). */
async function fileOf(ctx: Context): Promise<{ format: UploadFormat; body: AsyncIterable<Uint8Array> }> {
  const mediaType = (ctx.request.type || '').toLowerCase();
  const direct = FORMATS[mediaType];
  // A reader that stops early (a refused file) must not destroy the request, which would reset the
  // connection under a client still sending: the rest is drained (http/unread-body.ts).
  if (direct) return { format: direct, body: ctx.req.iterator({ destroyOnReturn: false }) };
  if (mediaType !== 'multipart/form-data') {
    throw new Problem(
      415,
      'Unsupported Media Type',
      'send the file as text/csv, application/xml or multipart/form-data',
    );
  }
  let form: ReturnType<typeof busboy>;
  try {
    form = busboy({ headers: ctx.req.headers, limits: { files: 1 } });
  } catch (error) {
    throw malformedForm(error);
  }
  return new Promise((resolve, reject) => {
    let found = false;
    form.on('file', (field, stream, info) => {
      // A form cut short destroys its open part with the form's error: that error is answered once, below
      // (or by formFile), never left unhandled to crash the API.
      stream.on('error', () => undefined);
      const format = FORMATS[info.mimeType.toLowerCase()] ?? formatFromName(info.filename);
      if (field !== 'file' || !format || found) {
        stream.resume();
        return;
      }
      found = true;
      resolve({ format, body: formFile(stream) });
    });
    form.on('error', (error) => reject(malformedForm(error)));
    form.on('close', () => {
      if (!found)
        reject(
          new Problem(422, 'Unprocessable Content', 'the form has no `file` field with a .csv or .xml file'),
        );
    });
    ctx.req.pipe(form);
  });
}

/** The form's file part: a form that breaks off while it is read is the client's fault, not a 500. */
async function* formFile(stream: Readable): AsyncGenerator<Uint8Array> {
  try {
    yield* stream;
  } catch (error) {
    throw malformedForm(error);
  }
}

const malformedForm = (error: unknown) =>
  new Problem(400, 'Bad Request', `malformed multipart form: ${(error as Error).message}`);

function formatFromName(filename: string | undefined): UploadFormat | undefined {
  const extension = filename?.toLowerCase().split('.').pop();
  return extension === 'csv' || extension === 'xml' ? extension : undefined;
}
