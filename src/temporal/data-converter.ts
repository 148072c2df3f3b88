import type { DataConverter } from '@temporalio/common';
import type { KeyRing } from '../crypto/key-ring';
import { EncryptionCodec } from './payload-codec';

/** Bundled into workflow code; pass it to `bundleWorkflowCode` when a bundle is built ahead of the worker. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The one data converter of the worker and every Temporal client: payloads encrypted with the payload key
 * ring, failure messages and stack traces included. Codecs run outside the workflow sandbox.
 */
export function createDataConverter(keyRing: KeyRing): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(keyRing)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
