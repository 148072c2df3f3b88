import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces go into an encoded payload, so the payload codec encrypts them too.
 * Loaded by path (`failureConverterPath`) in the client, the worker and the workflow sandbox alike, so it
 * must stay sandbox-safe: no Node built-ins, nothing but @temporalio/common.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
