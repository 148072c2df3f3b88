import { DefaultLogger, Runtime } from '@temporalio/worker';

// The SDK logs every worker state change at INFO; and every expected activity failure at WARN; tests only need errors.
Runtime.install({ logger: new DefaultLogger('ERROR') });
