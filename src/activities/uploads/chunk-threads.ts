/**
 * Chunks imported on threads of their own, so that one worker process uses more than one core. A chunk's work
 * is per row (unseal, validate, seal, escape) and its transaction is the chunk's own, so each thread has its own
 * database pool, cipher and fingerprinter and imports whole chunks: only the chunk's id goes over and its counts
 * come back. (Moving rows or value lists between threads cost more CPU than the second core gave back:
 * BENCHMARKS.md, bulk analysis.)
 *
 * Threads start with the worker (`startThreads`), or with the first chunk, and a thread that ended is replaced by
 * the next chunk; they take chunks by fewest in hand. A failure comes back with its message (a database error's
 * code and reason, without the statement), and as non-retryable when the chunk's upload does not exist.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import { CardFingerprinter } from '../../crypto/card-fingerprint';
import { FieldCipher } from '../../crypto/field-cipher';
import { keyRingFromThread, type KeyRing } from '../../crypto/key-ring';
import { createDb, describeDbError } from '../../db/knex';
import { moduleThreadData, startModuleThread } from '../../threads/module-thread';
import type { ChunkCounts, ChunkWorkflowInput } from '../../workflows/uploads/messages';
import { importStagedChunk } from './chunk-import';

const THREAD_ROLE = 'upload-chunk-import';
/** Connections per thread: a chunk holds one for its transaction, and a thread has a few chunks in hand. */
const CONNECTIONS_PER_THREAD = 4;
/**
 * A thread's heap: its live set is its chunks in hand (their staged rows, and one INSERT's rows being
 * written), and V8 left to itself collects late, as on the worker's main thread (src/workers/node-options.ts):
 * the worker's peak RSS during a 200k-row upload in chunks of 5,000 was 452 MiB with 192 MB and 431 MiB with
 * 128 (bench:bulk, 2026-12-04). A thread that runs out ends, and its chunks are retried, instead of the whole
 * worker.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 128 };
const CLOSE_GRACE_MS = 5000;

interface ThreadData {
  databaseUrl: string;
  fieldKeys: KeyRing;
  fingerprintKeys: KeyRing;
}

type Request = ({ id: number } & ChunkWorkflowInput) | { close: true };
type Reply =
  { id: number; counts: ChunkCounts } | { id: number; error: string; type?: string; nonRetryable: boolean };

interface ChunkThread {
  worker: Worker;
  inHand: number;
}

interface Waiting {
  thread: ChunkThread;
  resolve: (counts: ChunkCounts) => void;
  reject: (error: Error) => void;
}

export class ChunkImportThreads {
  private threads: ChunkThread[] = [];
  private readonly pending = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly options: {
      threads: number;
      databaseUrl: string;
      cipher: FieldCipher;
      fingerprinter: CardFingerprinter;
    },
  ) {}

  /**
   * Starts the threads before any chunk needs them: loading a thread's modules takes about a quarter of a second
   * of CPU (0.4 s under tsx), which an upload would otherwise pay at its start, when every core is busy.
   */
  startThreads(): void {
    if (this.closed) return;
    while (this.threads.length < this.options.threads) this.threads.push(this.startThread());
  }

  /** Threads started and not ended. */
  get running(): number {
    return this.threads.length;
  }

  /** Imports the chunk on the thread with the fewest chunks in hand. */
  importChunk = (input: ChunkWorkflowInput): Promise<ChunkCounts> => {
    if (this.closed) return Promise.reject(new Error('the chunk threads are closed'));
    this.startThreads();
    const thread = this.threads.reduce((least, candidate) =>
      candidate.inHand < least.inHand ? candidate : least,
    );
    const id = this.nextId++;
    thread.inHand += 1;
    return new Promise<ChunkCounts>((resolve, reject) => {
      this.pending.set(id, { thread, resolve, reject });
      thread.worker.postMessage({ id, ...input } satisfies Request);
    }).finally(() => {
      thread.inHand -= 1;
    });
  };

  /**
   * Ends the threads: each closes its connections and exits, or is stopped after CLOSE_GRACE_MS. A chunk still
   * in hand is rejected (its transaction rolls back with its connection).
   */
  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads;
    this.threads = [];
    await Promise.all(
      threads.map(
        ({ worker }) =>
          new Promise<void>((resolve) => {
            const stop = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
            worker.once('exit', () => {
              clearTimeout(stop);
              resolve();
            });
            worker.postMessage({ close: true } satisfies Request);
          }),
      ),
    );
  }

  private startThread(): ChunkThread {
    const { databaseUrl, cipher, fingerprinter } = this.options;
    const thread: ChunkThread = {
      inHand: 0,
      worker: startModuleThread(
        __filename,
        THREAD_ROLE,
        {
          databaseUrl,
          fieldKeys: cipher.keyRing,
          fingerprintKeys: fingerprinter.keyRing,
        } satisfies ThreadData,
        THREAD_LIMITS,
      ),
    };
    thread.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('counts' in reply) {
        waiting?.resolve(reply.counts);
      } else {
        waiting?.reject(
          reply.nonRetryable
            ? ApplicationFailure.nonRetryable(reply.error, reply.type)
            : ApplicationFailure.retryable(reply.error, reply.type),
        );
      }
    });
    // A thread that ends takes its chunks with it: they fail (and are retried); the next chunk starts another.
    const lost = (reason: Error) => {
      this.threads = this.threads.filter((other) => other !== thread);
      for (const [id, waiting] of this.pending) {
        if (waiting.thread !== thread) continue;
        this.pending.delete(id);
        waiting.reject(reason);
      }
    };
    thread.worker.on('error', lost);
    thread.worker.on('exit', (code) => lost(new Error(`a chunk thread exited (code ${code})`)));
    return thread;
  }
}

function serveChunks({ databaseUrl, fieldKeys, fingerprintKeys }: ThreadData): void {
  const deps = {
    db: createDb(databaseUrl, { max: CONNECTIONS_PER_THREAD }),
    cipher: new FieldCipher(keyRingFromThread(fieldKeys)),
    fingerprinter: new CardFingerprinter(keyRingFromThread(fingerprintKeys)),
    now: () => new Date(),
  };
  parentPort!.on('message', (request: Request) => {
    if ('close' in request) {
      // With its connections closed and its port closed, nothing keeps the thread alive: it exits.
      void deps.db.destroy().finally(() => parentPort!.close());
      return;
    }
    const { id, uploadId, chunk } = request;
    importStagedChunk(deps, { uploadId, chunk }).then(
      (counts) => parentPort!.postMessage({ id, counts } satisfies Reply),
      (error: unknown) => {
        const failure = error instanceof ApplicationFailure ? error : undefined;
        parentPort!.postMessage({
          id,
          error: describeDbError(error),
          ...(failure?.type ? { type: failure.type } : {}),
          nonRetryable: failure?.nonRetryable ?? false,
        } satisfies Reply);
      },
    );
  });
}

const threadData = moduleThreadData<ThreadData>(THREAD_ROLE);
if (threadData) serveChunks(threadData);
