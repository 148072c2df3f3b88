import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { apiErrorOf, readBody, type ApiClient, type RequestOptions } from './client';
import { megabytes, perSecond, type Output } from './output';

export type DownloadFormat = 'csv' | 'xml';

export interface Download {
  file: string;
  bytes: number;
  /** CSV records after the header, or XML orders. */
  rows: number;
  ms: number;
}

/** The download ended early or malformed: the file is removed, and the command fails. */
export class TruncatedDownloadError extends Error {
  override name = 'TruncatedDownloadError';
}

/**
 * Streams a CSV or XML response into `file`, counting rows as they pass. The body goes to `file.part`
 * and is renamed only once complete, so a cut-off transfer never leaves a short file that looks whole.
 * The API signals a failure mid-stream by cutting the response off before its last chunk; a body that
 * does not end as its format must is refused too.
 */
export async function download(
  api: ApiClient,
  path: string,
  options: RequestOptions & { file: string; format: DownloadFormat; label: string; out: Output },
): Promise<Download> {
  const started = Date.now();
  const response = await api.send('GET', path, options);
  const status = response.statusCode ?? 0;
  if (status >= 400) {
    throw apiErrorOf({ status, headers: response.headers, body: await readBody(response, api.baseUrl) });
  }
  const counter = rowCounter(options.format);
  const progress = options.out.progress({ label: options.label });
  let bytes = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      counter.add(chunk);
      const ms = Date.now() - started;
      progress.update(
        0,
        `${counter.rows()} rows | ${megabytes(bytes)} | ${(perSecond(bytes, ms) / 1e6).toFixed(1)} MB/s`,
      );
      callback(null, chunk);
    },
  });
  const partial = `${options.file}.part`;
  // Opened before the first byte, so a path that cannot be written fails as such, not as a cut-off.
  const output = (await fs.promises.open(partial, 'w')).createWriteStream();
  try {
    await pipeline(response, counting, output);
    if (!counter.complete()) throw new Error(`the ${options.format.toUpperCase()} document ends mid-record`);
  } catch (error) {
    progress.stop();
    await fs.promises.rm(partial, { force: true });
    if ((error as NodeJS.ErrnoException).syscall === 'write') {
      throw new Error(`cannot write ${partial}: ${(error as Error).message}`, { cause: error });
    }
    throw new TruncatedDownloadError(
      `the download was cut off after ${counter.rows()} rows (${megabytes(bytes)}): ${(error as Error).message}. ` +
        `The server failed mid-stream; nothing was written to ${options.file}. Try again.`,
    );
  }
  progress.stop();
  await fs.promises.rename(partial, options.file);
  return { file: options.file, bytes, rows: counter.rows(), ms: Date.now() - started };
}

interface RowCounter {
  add(chunk: Buffer): void;
  rows(): number;
  /** Whether what was seen ends where a document may end. */
  complete(): boolean;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

export function rowCounter(format: DownloadFormat): RowCounter {
  return format === 'csv' ? csvCounter() : xmlCounter();
}

/** Records are lines outside quotes (quoted cells may hold newlines); the first is the header. */
function csvCounter(): RowCounter {
  let lines = 0;
  let quoted = false;
  let last = -1;
  return {
    add(chunk) {
      for (let index = 0; index < chunk.length; index++) {
        const byte = chunk[index]!;
        if (byte === QUOTE) quoted = !quoted;
        else if (byte === NEWLINE && !quoted) lines++;
      }
      if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    },
    rows: () => Math.max(lines - 1, 0),
    complete: () => !quoted && last === NEWLINE,
  };
}

/** Orders are `<order ` elements (`<` never appears unescaped inside an attribute); the root must close. */
function xmlCounter(): RowCounter {
  const OPEN = '<order ';
  let orders = 0;
  let tail = '';
  return {
    add(chunk) {
      const text = tail + chunk.toString('latin1');
      for (let at = text.indexOf(OPEN); at !== -1; at = text.indexOf(OPEN, at + OPEN.length)) orders++;
      // Keep enough to find a tag split across chunks, and the end of the document.
      tail = text.slice(-Math.max(OPEN.length - 1, 16));
      if (tail.includes(OPEN)) tail = tail.slice(tail.lastIndexOf(OPEN) + OPEN.length);
    },
    rows: () => orders,
    complete: () => /<\/orders>\s*$/.test(tail),
  };
}
