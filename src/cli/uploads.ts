import { UPLOAD_STATUSES } from '../domain/uploads/statuses';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { Command, Option } from 'commander';
import type { ApiClient } from './client';
import { pollUntil, withContext } from './context';
import { download } from './download';
import { megabytes, perSecond, seconds, type Output } from './output';

export interface UploadView {
  uploadId: string;
  status: 'RUNNING' | 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED';
  format: string;
  rowsTotal: number;
  rowsImported: number;
  rowsRejected: number;
  chunks: { total: number; completed: number; failed: number };
  startedAt: string;
  finishedAt: string | null;
  errors: { line: number; orderId?: string; field: string; reason: string }[];
}

const CONTENT_TYPES: Record<string, string> = { '.csv': 'text/csv', '.xml': 'application/xml' };
const POLL_MS = 500;

const EXIT_CODES = `
Uses the operator key. Exit status with --wait: 0 when COMPLETED, 2 when COMPLETED_WITH_ERRORS (some rows
rejected: see the errors), 1 when FAILED or on any error.`;

export function uploadCommand(): Command {
  return new Command('upload')
    .description('upload a CSV or XML file of orders and payments (streamed, never read whole)')
    .argument('<file>', 'a .csv (text/csv) or .xml (application/xml) file')
    .option(
      '--wait',
      'follow the import until its final status, then print a summary (on a terminal: a live bar)',
    )
    .addHelpText('after', EXIT_CODES)
    .action(async (file: string, options: { wait?: boolean }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()];
        if (!contentType) throw new Error(`${file}: the file name must end in .csv or .xml`);
        const { size } = await fs.promises.stat(file);
        const accepted = await send(api, out, file, contentType, size);
        if (!options.wait) {
          out.result(accepted, () => [
            `upload ${accepted.uploadId}: ${accepted.status}${accepted.duplicate ? ' (this file was uploaded before)' : ''}`,
            `follow it: durapay uploads get ${accepted.uploadId} --wait`,
          ]);
          return;
        }
        return finish(out, await follow(api, out, accepted.uploadId));
      }),
    );
}

export function uploadsCommand(): Command {
  const uploads = new Command('uploads').description(
    'follow uploads and read their error reports (operator key)',
  );

  uploads
    .command('get')
    .description('show an upload: status, rows, chunks and its first rejected rows')
    .argument('<uploadId>')
    .option('--wait', 'follow it until its final status')
    .addHelpText('after', EXIT_CODES)
    .action(async (uploadId: string, options: { wait?: boolean }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        if (options.wait) return finish(out, await follow(api, out, uploadId));
        const { body } = await api.json<UploadView>('GET', `/uploads/${encodeURIComponent(uploadId)}`, {
          role: 'operator',
        });
        out.result(body, () => summaryLines(body));
      }),
    );

  uploads
    .command('errors')
    .description('the full report of rejected rows, as CSV: line, order_id, field, reason')
    .argument('<uploadId>')
    .requiredOption('-o, --output <file>', 'where to write the report')
    .action(async (uploadId: string, options: { output: string }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const result = await download(api, `/uploads/${encodeURIComponent(uploadId)}/errors`, {
          role: 'operator',
          file: options.output,
          format: 'csv',
          label: 'errors',
          out,
        });
        out.result(result, () => [`${result.rows} rejected rows written to ${result.file}`]);
      }),
    );

  uploads
    .command('list')
    .description('list uploads, newest first')
    .addOption(new Option('--status <status>', 'only uploads in this status').choices(UPLOAD_STATUSES))
    .option('--limit <n>', 'uploads per page', '20')
    .option('--cursor <cursor>', 'the next page: the cursor a previous page printed')
    .action(async (options: { status?: string; limit: string; cursor?: string }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const { body } = await api.json<{ items: UploadView[]; nextCursor: string | null }>(
          'GET',
          '/uploads',
          {
            role: 'operator',
            query: { status: options.status, limit: options.limit, cursor: options.cursor },
          },
        );
        out.result(body, () => [
          ...body.items.map(
            (upload) =>
              `${upload.uploadId}  ${upload.status}  ${upload.format}  ` +
              `${upload.rowsImported} imported, ${upload.rowsRejected} rejected of ${upload.rowsTotal}  ${upload.startedAt}`,
          ),
          ...(body.items.length === 0 ? ['no uploads'] : []),
          ...(body.nextCursor ? [`more: --cursor ${body.nextCursor}`] : []),
        ]);
      }),
    );

  return uploads;
}

interface Accepted {
  uploadId: string;
  status: string;
  duplicate: boolean;
}

/** Streams the file as the request body, with a bar of bytes sent; the API answers once it is staged. */
async function send(
  api: ApiClient,
  out: Output,
  file: string,
  contentType: string,
  size: number,
): Promise<Accepted> {
  const progress = out.progress({ label: 'sending  ', total: size });
  const started = Date.now();
  let sent = 0;
  const show = () => {
    const rate = perSecond(sent, Date.now() - started) / 1e6;
    progress.update(sent, `${megabytes(sent)} of ${megabytes(size)} | ${rate.toFixed(1)} MB/s`);
  };
  const source = fs.createReadStream(file);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      show();
      callback(null, chunk);
    },
  });
  source.on('error', (error) => stream.destroy(error));
  // Refused before the end (413, 401): stop reading the file.
  stream.on('close', () => source.destroy());
  source.pipe(stream);
  try {
    const { body } = await api.json<Accepted>('POST', '/uploads', {
      role: 'operator',
      headers: { 'content-type': contentType, 'content-length': size },
      stream,
    });
    // The last bytes sit in socket buffers until the API has staged them: the rate counts until its answer.
    show();
    return body;
  } finally {
    progress.stop();
  }
}

/** Polls the upload until its final status, showing rows, chunks, rate and ETA. */
async function follow(api: ApiClient, out: Output, uploadId: string): Promise<UploadView> {
  const started = Date.now();
  let first: number | undefined;
  let progress: ReturnType<Output['progress']> | undefined;
  try {
    const final = await pollUntil(
      async () =>
        (await api.json<UploadView>('GET', `/uploads/${encodeURIComponent(uploadId)}`, { role: 'operator' }))
          .body,
      (upload) => {
        const done = upload.rowsImported + upload.rowsRejected;
        first ??= done;
        progress ??= out.progress({ label: 'importing', total: upload.rowsTotal });
        const rate = perSecond(done - first, Date.now() - started);
        progress.update(
          done,
          `${done}/${upload.rowsTotal} rows | chunks ${upload.chunks.completed + upload.chunks.failed}/${upload.chunks.total}` +
            ` | ${Math.round(rate)} rows/s`,
          upload.rowsTotal,
        );
        return upload.status !== 'RUNNING';
      },
      POLL_MS,
    );
    return final!;
  } finally {
    progress?.stop();
  }
}

function finish(out: Output, upload: UploadView): number {
  out.result(upload, () => summaryLines(upload));
  return upload.status === 'COMPLETED' ? 0 : upload.status === 'COMPLETED_WITH_ERRORS' ? 2 : 1;
}

function summaryLines(upload: UploadView): string[] {
  const took =
    upload.finishedAt === null
      ? ''
      : ` in ${seconds(Date.parse(upload.finishedAt) - Date.parse(upload.startedAt))}`;
  const lines = [
    `upload ${upload.uploadId}: ${upload.status}${took}`,
    `  rows: ${upload.rowsImported} imported, ${upload.rowsRejected} rejected, ${upload.rowsTotal} in the file`,
    `  chunks: ${upload.chunks.completed} completed, ${upload.chunks.failed} failed, ${upload.chunks.total} in all`,
  ];
  if (upload.errors.length > 0) {
    lines.push(`  first rejected rows:`);
    for (const error of upload.errors) {
      lines.push(
        `    line ${error.line}${error.orderId ? ` (order ${error.orderId})` : ''}: ${error.field}: ${error.reason}`,
      );
    }
    lines.push(
      `  the full report: durapay uploads errors ${upload.uploadId} -o errors.csv (GET /uploads/${upload.uploadId}/errors)`,
    );
  }
  return lines;
}
