/** The bulk endpoints as the bench drives them: POST a file from disk, poll its upload, stream an export. */
import fs from 'node:fs';
import http from 'node:http';
import { authHeader } from '../lib/auth';

export interface UploadStatus {
  uploadId: string;
  status: string;
  rowsTotal: number;
  rowsImported: number;
  rowsRejected: number;
  chunks: { total: number; completed: number; failed: number };
  /** When the worker recorded the final status (ISO 8601, milliseconds), or null while it runs. */
  finishedAt: string | null;
  errors?: unknown[];
}

export interface UploadResult {
  uploadId?: string;
  /** Seconds from the first byte sent to the 202 (the API streams the file into staging meanwhile). */
  postS: number;
  /**
   * Seconds from the POST to the final status: to the upload's `finishedAt`, which the worker records on the
   * same clock, so the poll interval adds nothing (or to the poll that gave up).
   */
  elapsedS: number;
  /** Seconds from the POST to the poll that saw the final status. */
  seenS?: number;
  final?: UploadStatus;
  problem?: string;
}

/** POSTs `file` as the raw body; answers the status and the response text. */
function postFile(base: URL, file: string, contentType: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL('/uploads', base),
      {
        method: 'POST',
        agent: false,
        headers: {
          ...authHeader('operator'),
          'content-type': contentType,
          'content-length': fs.statSync(file).size,
        },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    const body = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    body.on('error', (error) => request.destroy(error));
    body.pipe(request);
  });
}

async function uploadStatus(base: URL, uploadId: string): Promise<UploadStatus> {
  const response = await fetch(new URL(`/uploads/${encodeURIComponent(uploadId)}`, base), {
    headers: authHeader('operator'),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as UploadStatus;
  if (response.status !== 200) throw new Error(`GET /uploads/${uploadId} answered ${response.status}`);
  return body;
}

export async function timeUpload(options: {
  base: URL;
  file: string;
  contentType: string;
  pollMs: number;
  timeoutS: number;
  log: (line: string) => void;
  label: string;
}): Promise<UploadResult> {
  const { base, log, label } = options;
  const started = performance.now();
  const startedAt = Date.now();
  const seconds = () => (performance.now() - started) / 1000;
  const posted = await postFile(base, options.file, options.contentType);
  const postS = seconds();
  if (posted.status !== 202) {
    return {
      postS,
      elapsedS: postS,
      problem: `POST /uploads answered ${posted.status}: ${posted.text.slice(0, 300)}`,
    };
  }
  const { uploadId, duplicate } = JSON.parse(posted.text) as { uploadId: string; duplicate?: boolean };
  log(
    `${label}: staged as upload ${uploadId} in ${postS.toFixed(1)} s${duplicate ? ' (DUPLICATE)' : ''}; polling`,
  );
  let nextLog = performance.now() + 10_000;
  let failingSince: number | undefined;
  for (;;) {
    let status: UploadStatus | undefined;
    try {
      status = await uploadStatus(base, uploadId);
      failingSince = undefined;
    } catch (error) {
      failingSince ??= performance.now();
      const message = error instanceof Error ? error.message : String(error);
      log(`${label}: status poll failed: ${message}`);
      if (performance.now() - failingSince > 60_000) {
        return { uploadId, postS, elapsedS: seconds(), problem: `status polls failing for 60 s: ${message}` };
      }
    }
    if (status && status.status !== 'RUNNING') {
      const seenS = seconds();
      return { uploadId, postS, elapsedS: finishedS(status, startedAt) ?? seenS, seenS, final: status };
    }
    if (seconds() > options.timeoutS) {
      return {
        uploadId,
        postS,
        elapsedS: seconds(),
        ...(status ? { final: status } : {}),
        problem: `still RUNNING after ${options.timeoutS} s`,
      };
    }
    if (status && performance.now() > nextLog) {
      log(
        `${label}: ${Math.round(seconds())} s, chunks ${status.chunks.completed}/${status.chunks.total}, ` +
          `${status.rowsImported} rows imported`,
      );
      nextLog += 10_000;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Seconds from `startedAt` to the upload's `finishedAt`, if it has one that falls after it. */
function finishedS(status: UploadStatus, startedAt: number): number | undefined {
  const finished = status.finishedAt ? Date.parse(status.finishedAt) : NaN;
  return finished >= startedAt ? (finished - startedAt) / 1000 : undefined;
}

export interface ExportResult {
  status: number;
  bytes: number;
  /** Data rows: line breaks minus the header's. */
  rows: number;
  elapsedS: number;
  firstByteS: number;
  problem?: string;
}

/** Streams `GET /exports/orders?format=csv` to nowhere, counting bytes and lines. */
export function timeExport(base: URL, timeoutS: number, log: (line: string) => void): Promise<ExportResult> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  return new Promise((resolve) => {
    let bytes = 0;
    let lines = 0;
    let firstByteS = NaN;
    let status = 0;
    const done = (problem?: string) =>
      resolve({
        status,
        bytes,
        rows: Math.max(0, lines - 1),
        elapsedS: seconds(),
        firstByteS,
        ...(problem ? { problem } : {}),
      });
    const url = new URL('/exports/orders?format=csv', base);
    const request = http.get(url, { agent: false, headers: authHeader('operator') }, (response) => {
      status = response.statusCode ?? 0;
      let nextLog = performance.now() + 10_000;
      response.on('data', (part: Buffer) => {
        if (Number.isNaN(firstByteS)) firstByteS = seconds();
        bytes += part.length;
        for (let i = part.indexOf(10); i !== -1; i = part.indexOf(10, i + 1)) lines++;
        if (performance.now() > nextLog) {
          log(`export: ${Math.round(seconds())} s, ${lines} lines`);
          nextLog += 10_000;
        }
      });
      response.on('end', () => done(status === 200 ? undefined : `answered ${status}`));
      response.on('error', (error) => done(error.message));
    });
    const timer = setTimeout(() => request.destroy(new Error(`no end after ${timeoutS} s`)), timeoutS * 1000);
    timer.unref();
    request.on('error', (error) => done(error.message));
    request.on('close', () => clearTimeout(timer));
  });
}
