/**
 * A FieldCipher on a thread of its own, for bulk work that would otherwise hold the event loop: an export
 * decrypts one email per order, which was 40 % of its CPU on the main thread. A column of values goes over
 * in one message and comes back in one, so the other core decrypts while the main thread formats.
 *
 * The thread gets the key ring; the keys never leave the process.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { moduleThreadData, startModuleThread } from '../threads/module-thread';
import { FieldCipher, FieldDecryptionError } from './field-cipher';
import { keyRingFromThread, type KeyRing } from './key-ring';

const THREAD_ROLE = 'field-cipher-thread';

interface ThreadData {
  keyRing: KeyRing;
}

interface DecryptRequest {
  id: number;
  table: string;
  column: string;
  sealed: readonly string[];
  rowIds: readonly string[];
}

/** `failures` holds [index, message] for each value that did not decrypt. */
type DecryptReply =
  { id: number; values: string[]; failures: [number, string][] } | { id: number; error: string };

/** A clear value, or the error of a value that does not decrypt (for the caller to throw when it reaches it). */
export type DecryptedCell = string | FieldDecryptionError;

export class FieldCipherThread {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (cells: DecryptedCell[]) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private stopped: Error | undefined;

  constructor(cipher: FieldCipher) {
    this.worker = startModuleThread(__filename, THREAD_ROLE, {
      keyRing: cipher.keyRing,
    } satisfies ThreadData);
    this.worker.on('message', (reply: DecryptReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) {
        waiting?.reject(new Error(`the cipher thread failed: ${reply.error}`));
        return;
      }
      const cells: DecryptedCell[] = reply.values;
      for (const [index, message] of reply.failures) cells[index] = new FieldDecryptionError(message);
      waiting?.resolve(cells);
    });
    this.worker.on('error', (error) => this.stop(error));
    this.worker.on('exit', (code) => this.stop(new Error(`the cipher thread exited (code ${code})`)));
  }

  /** Each cell of one column decrypted, in order; `rowIds` are the cells' rows, bound into their ciphertexts. */
  decryptColumn(
    table: string,
    column: string,
    sealed: readonly string[],
    rowIds: readonly string[],
  ): Promise<DecryptedCell[]> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (sealed.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, table, column, sealed, rowIds } satisfies DecryptRequest);
    });
  }

  /** Ends the thread; whatever still waits is rejected. */
  async close(): Promise<void> {
    this.stop(new Error('the cipher thread is closed'));
    await this.worker.terminate();
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const { reject } of this.pending.values()) reject(this.stopped);
    this.pending.clear();
  }
}

function serveDecryption(keyRing: KeyRing): void {
  const cipher = new FieldCipher(keyRingFromThread(keyRing));
  parentPort!.on('message', ({ id, table, column, sealed, rowIds }: DecryptRequest) => {
    let reply: DecryptReply;
    try {
      const failures: [number, string][] = [];
      const values = sealed.map((value, index) => {
        try {
          return cipher.decrypt(value, { table, column, rowId: rowIds[index]! });
        } catch (error) {
          if (!(error instanceof FieldDecryptionError)) throw error;
          failures.push([index, error.message]);
          return '';
        }
      });
      reply = { id, values, failures };
    } catch (error) {
      reply = { id, error: error instanceof Error ? error.message : String(error) };
    }
    parentPort!.postMessage(reply);
  });
}

const threadData = moduleThreadData<ThreadData>(THREAD_ROLE);
if (threadData) serveDecryption(threadData.keyRing);
