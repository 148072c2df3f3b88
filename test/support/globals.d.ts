import type { ChildProcess } from 'node:child_process';

declare global {
  // Shared between jest's globalSetup and globalTeardown (they run in the same process).
  var __DURAPAY_MARIADB__: ChildProcess | undefined;
}
