import { createHash, randomUUID } from 'node:crypto';
import type { FieldCipher } from '../../crypto/field-cipher';
import { isDuplicateKey, type Db } from '../../db/knex';
import {
  BlockStager,
  createUpload,
  deleteUpload,
  findUploadByDigest,
  markStaged,
  type UploadFormat,
} from '../../db/uploads';
import { Problem } from '../http/problem';
import { readRowsOnThread } from './row-reader-thread';

/** Rows sealed and written at a time: a few megabytes held. */
const STAGE_BATCH = 32 * 1024;

export interface StagedUpload {
  uploadId: string;
  /** True when the same file was uploaded before: the earlier upload is answered and nothing is redone. */
  duplicate: boolean;
  chunksTotal: number;
}

/**
 * Streams a file into MySQL as it arrives (never the whole file in memory): rows parsed on a thread
 * (row-reader-thread.ts), each with its chunk, deflated and sealed in blocks (BlockStager), a batch at a time.
 * A file-level fault (encoding, XML DOCTYPE, size) removes what was staged.
 */
export async function stageUpload(
  deps: { db: Db; cipher: FieldCipher; now: () => Date },
  input: { format: UploadFormat; body: AsyncIterable<Uint8Array>; maxBytes: number; chunkRows: number },
): Promise<StagedUpload> {
  const { db, cipher } = deps;
  const uploadId = randomUUID();
  await createUpload(db, uploadId, input.format, deps.now());
  const digest = createHash('sha256');
  let bytes = 0;
  async function* metered(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input.body) {
      bytes += chunk.byteLength;
      if (bytes > input.maxBytes) {
        throw new Problem(
          413,
          'Content Too Large',
          `the file is larger than the ${input.maxBytes}-byte upload limit`,
        );
      }
      digest.update(chunk);
      yield chunk;
    }
  }

  let rowNo = 0;
  let chunksTotal = 0;
  // One batch is written while the next is parsed, so MySQL and the parser work at the same time.
  let writing: Promise<void> = Promise.resolve();
  try {
    const stager = new BlockStager(db, cipher, uploadId);
    for await (const rows of readRowsOnThread(input.format, metered(), input.chunkRows)) {
      for (let i = 0; i < rows.json.length; i++) {
        const chunk = rows.chunks[i]!;
        stager.add(chunk, rows.lines[i]!, rows.json[i]!);
        if (chunk >= chunksTotal) chunksTotal = chunk + 1;
      }
      rowNo += rows.json.length;
      if (stager.held >= STAGE_BATCH) {
        await writing;
        writing = stager.flush();
        // Seen by the next await, or by the catch below: never an unhandled rejection meanwhile.
        writing.catch(() => undefined);
      }
    }
    await writing;
    await stager.flush();
  } catch (error) {
    await writing.catch(() => undefined);
    await deleteUpload(db, uploadId);
    throw error;
  }

  const sha256 = digest.digest('hex');
  const earlier = await findUploadByDigest(db, sha256);
  if (earlier) {
    await deleteUpload(db, uploadId);
    return { uploadId: earlier.upload_id, duplicate: true, chunksTotal: earlier.chunks_total };
  }
  try {
    await markStaged(db, uploadId, { bytes, sha256, rowsTotal: rowNo, chunksTotal });
  } catch (error) {
    // The same file finished staging a moment earlier in a concurrent request: answer with that upload.
    const twin = isDuplicateKey(error) && (await findUploadByDigest(db, sha256));
    if (!twin) throw error;
    await deleteUpload(db, uploadId);
    return { uploadId: twin.upload_id, duplicate: true, chunksTotal: twin.chunks_total };
  }
  return { uploadId, duplicate: false, chunksTotal };
}
