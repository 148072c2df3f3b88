import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { FieldDecryptionError, type FieldCipher } from '../../crypto/field-cipher';
import {
  deleteRotationBatches,
  findRotationBatch,
  readSealedBatch,
  recordRotationBatch,
  replaceSealed,
  sealedLocation,
  type SealedValue,
} from '../../db/encrypted-columns';
import type { Db } from '../../db/knex';
import {
  KEY_MISMATCH,
  VALUE_UNREADABLE,
  type ColumnCounts,
  type EncryptedColumn,
  type ReencryptBatchInput,
  type RowCursor,
} from '../../workflows/keys/messages';

export interface KeyActivityDeps {
  db: Db;
  cipher: FieldCipher;
  now?: () => Date;
}

export function createKeyActivities({ db, cipher, now = () => new Date() }: KeyActivityDeps) {
  /** The value sealed under the active key, or undefined when it is under it already. */
  function resealed(column: EncryptedColumn, value: SealedValue): string | undefined {
    const location = sealedLocation(column, value.key);
    try {
      if (!cipher.needsReencryption(value.sealed)) return undefined;
      return cipher.encrypt(cipher.decrypt(value.sealed, location), location);
    } catch (error) {
      if (!(error instanceof FieldDecryptionError)) throw error;
      // A key taken out of the ring too early, or a damaged value: no retry can read it.
      throw ApplicationFailure.nonRetryable(
        `cannot re-encrypt ${column} of row ${value.key.join('/')}: ${error.message}`,
        VALUE_UNREADABLE,
      );
    }
  }

  return {
    /**
     * Reads up to `limit` rows after the cursor and rewrites each value sealed under another key, each with a
     * compare-and-set so a concurrent write wins. Returns the last row read (`cursor`, null if none). One
     * batch in one transaction, its counts recorded with its rewrites: a retry answers the same counts.
     */
    async reencryptBatch({
      batchId,
      keyId,
      column,
      after,
      limit,
    }: ReencryptBatchInput): Promise<ColumnCounts & { cursor: RowCursor | null }> {
      if (cipher.activeKeyId !== keyId) {
        throw ApplicationFailure.retryable(
          `this worker encrypts under key "${cipher.activeKeyId}" but the rotation is to "${keyId}": ` +
            'give every API and worker process the same DURAPAY_FIELD_KEYS',
          KEY_MISMATCH,
        );
      }
      return db.transaction(async (trx) => {
        const committed = await findRotationBatch(trx, batchId);
        if (committed) return committed;
        const values = await readSealedBatch(trx, column, after, limit);
        heartbeat();
        let rewritten = 0;
        for (const value of values) {
          const replacement = resealed(column, value);
          if (replacement !== undefined && (await replaceSealed(trx, column, value, replacement))) {
            rewritten += 1;
          }
        }
        const batch = { scanned: values.length, rewritten, cursor: values.at(-1)?.key ?? null };
        await recordRotationBatch(trx, { batchId, keyId, ...batch }, now());
        return batch;
      });
    },

    /** Forgets the batch records of a finished rotation. */
    async finishRotation({ keyId }: { keyId: string }): Promise<void> {
      await deleteRotationBatches(db, keyId);
    },
  };
}
