/**
 * An upload's rows read on a thread of its own: the bytes go in, and each row comes back as its chunk
 * (ChunkAssigner), its line and its staged JSON (`stagedRowJson`), so the main thread only files, seals and
 * writes them (BlockStager). Parsing is most of staging's CPU (XML several times CSV's), and while the file
 * arrives the worker process has nothing to import yet, so the second core reads while the first stages.
 *
 * Bounded both ways: at most CHUNKS_IN_FLIGHT byte chunks are with the thread, and a chunk's credit comes
 * back only after the caller has taken the rows read before it. A file-level fault in the thread (encoding,
 * CSV quoting, XML structure) comes back as the same DomainError; a fault of the body itself (size) is thrown
 * as it is.
 */
import { parentPort } from 'node:worker_threads';
import { stagedRowJson, type UploadFormat } from '../../db/uploads';
import { DomainError } from '../../domain/errors';
import { ChunkAssigner } from '../../domain/uploads/chunks';
import { readCsvRows } from './csv-rows';
import { moduleThreadData, startModuleThread } from '../../threads/module-thread';
import { readXmlRows } from './xml-rows';

const THREAD_ROLE = 'upload-row-reader';
/**
 * Byte chunks handed over and not yet read (a few megabytes of a request's 64 KiB reads): enough for the thread to
 * read on while the main thread seals and writes a batch. With 4 it waited out every batch, and staging a
 * 200,000-row CSV took 1.40 s instead of 1.15 s (three runs each, BENCHMARKS.md bulk analysis).
 */
export const CHUNKS_IN_FLIGHT = 64;
/** Rows per message: a message per row would cost more than the row. */
const ROWS_PER_BATCH = 512;

/** Rows in file order: the i-th row's chunk, line and staged JSON. */
export interface ReadRows {
  chunks: number[];
  lines: number[];
  json: string[];
}

type ToThread = { bytes: Uint8Array } | { end: true };
type FromThread =
  { rows: ReadRows } | { consumed: true } | { done: true } | { error: { message: string; code?: string } };

/** The file's rows, a batch at a time, read on a thread that ends with the iteration. */
export async function* readRowsOnThread(
  format: UploadFormat,
  body: AsyncIterable<Uint8Array>,
  chunkRows: number,
): AsyncGenerator<ReadRows> {
  const thread = startModuleThread(__filename, THREAD_ROLE, { format, chunkRows } satisfies ThreadData);
  const inbox: (FromThread | { failed: unknown })[] = [];
  let wakeReader: (() => void) | undefined;
  const deliver = (message: FromThread | { failed: unknown }) => {
    inbox.push(message);
    wakeReader?.();
  };
  thread.on('message', deliver);
  thread.on('error', (error) => deliver({ failed: error }));
  thread.on('exit', (code) =>
    deliver({ failed: new Error(`the upload reader thread exited (code ${code})`) }),
  );

  let credits = CHUNKS_IN_FLIGHT;
  let wakePump: (() => void) | undefined;
  let stopped = false;
  const pump = async () => {
    for await (const chunk of body) {
      while (credits === 0 && !stopped) await new Promise<void>((resolve) => (wakePump = resolve));
      if (stopped) return;
      credits -= 1;
      // A copy the thread owns: the request's buffers may share memory with others.
      const bytes = new Uint8Array(chunk);
      thread.postMessage({ bytes } satisfies ToThread, [bytes.buffer]);
    }
    thread.postMessage({ end: true } satisfies ToThread);
  };
  pump().catch((error: unknown) => deliver({ failed: error }));

  try {
    for (;;) {
      const message = inbox.shift();
      if (!message) {
        await new Promise<void>((resolve) => (wakeReader = resolve));
        continue;
      }
      if ('rows' in message) {
        yield message.rows;
      } else if ('consumed' in message) {
        credits += 1;
        wakePump?.();
      } else if ('done' in message) {
        return;
      } else if ('error' in message) {
        const { code, message: text } = message.error;
        throw code === undefined
          ? new Error(`reading the upload failed: ${text}`)
          : new DomainError(code, text);
      } else {
        throw message.failed;
      }
    }
  } finally {
    stopped = true;
    wakePump?.();
    thread.removeAllListeners('exit');
    await thread.terminate();
  }
}

interface ThreadData {
  format: UploadFormat;
  chunkRows: number;
}

async function serveReading({ format, chunkRows }: ThreadData): Promise<void> {
  const port = parentPort!;
  const arrived: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  port.on('message', (message: ToThread) => {
    if ('bytes' in message) arrived.push(message.bytes);
    else ended = true;
    wake?.();
  });

  let batch: ReadRows = { chunks: [], lines: [], json: [] };
  const send = () => {
    if (batch.json.length === 0) return;
    port.postMessage({ rows: batch } satisfies FromThread);
    batch = { chunks: [], lines: [], json: [] };
  };
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = arrived.shift();
      if (chunk) {
        yield chunk;
        // Asked for more: the rows read so far go out before the credit, so the caller holds them first.
        send();
        port.postMessage({ consumed: true } satisfies FromThread);
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  }

  try {
    let rowNo = 0;
    const chunks = new ChunkAssigner(chunkRows);
    const rows = format === 'csv' ? readCsvRows(bytes()) : readXmlRows(bytes());
    for await (const row of rows) {
      const chunk = chunks.chunkOf(row);
      batch.chunks.push(chunk);
      batch.lines.push(row.line);
      batch.json.push(stagedRowJson({ row, rowNo: rowNo++, chunk }));
      if (batch.json.length === ROWS_PER_BATCH) send();
    }
    send();
    port.postMessage({ done: true } satisfies FromThread);
  } catch (error) {
    const failure =
      error instanceof DomainError
        ? { code: error.code, message: error.message }
        : { message: error instanceof Error ? error.message : String(error) };
    port.postMessage({ error: failure } satisfies FromThread);
  }
}

const threadData = moduleThreadData<ThreadData>(THREAD_ROLE);
if (threadData) void serveReading(threadData);
