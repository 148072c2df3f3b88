/**
 * `npm run rotate-keys`: re-encrypts every encrypted column to the active (first) key of DURAPAY_FIELD_KEYS,
 * through the key-rotation workflow. Starts it, or attaches to the one already running for that key, prints
 * progress until it ends, and exits 0 only when it completed. Run it with the same environment as the API.
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { createFieldCipher, createPayloadKeyRing } from '../src/crypto';
import { createDataConverter } from '../src/temporal/data-converter';
import { keyRotationStatus, startKeyRotation, type KeyRotationView } from '../src/api/keys/rotations';

const POLL_MS = 2000;

async function main(): Promise<number> {
  const config = loadConfig();
  const warn = (message: string) => console.warn(message);
  const keyId = createFieldCipher(config, warn).activeKeyId;
  const connection = await Connection.connect(config.temporal.connection);
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(createPayloadKeyRing(config, warn)),
    });
    const { rotationId, started } = await startKeyRotation(client, {
      taskQueue: config.temporal.taskQueue,
      keyId,
      ...config.keyRotation,
    });
    console.log(`${started ? 'started' : 'attached to'} the rotation to key "${rotationId}"`);
    let last = '';
    for (;;) {
      const view = await keyRotationStatus(client, rotationId);
      if (!view) throw new Error(`the rotation to key "${rotationId}" is gone`);
      const line = describe(view);
      if (line !== last) console.log(line);
      last = line;
      if (view.status !== 'RUNNING') return view.status === 'COMPLETED' ? 0 : 1;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await connection.close();
  }
}

/** `RUNNING orders.customer_email_enc 1200/1200 done, …`: scanned, then rewritten, per column. */
function describe(view: KeyRotationView): string {
  if (view.status === 'FAILED') return `FAILED ${view.reason ?? ''}`;
  const columns = (view.columns ?? []).map(
    (column) =>
      `${column.column} scanned ${column.scanned} rewritten ${column.rewritten}${column.done ? ' done' : ''}`,
  );
  return `${view.status} ${columns.join(', ')}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
