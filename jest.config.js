/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/setup-each-file.ts'],
  // Servers are real (Temporal test server, dev server, MariaDB) and share two cores: this only guards
  // against a hang. A shared machine has been seen running six times slower for minutes, and a test that
  // is merely slower must not fail.
  testTimeout: 600_000,
  // Two cores: more workers only make the Temporal servers fight for CPU.
  maxWorkers: 2,
};
