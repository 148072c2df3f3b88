/**
 * Test files that need MariaDB or a Temporal server. Every other test file is a unit test: it starts
 * nothing, so `npm run test:unit` runs in seconds on a machine without either. A new test that needs a
 * server (it uses test/support/db, temporal, stack or api) belongs in this list: in the unit project those
 * helpers fail at once, because the integration project's global setup has not given them a server.
 */
const integration = [
  'test/api/{auth,codec,exports,foundation,openapi,orders,uploads,uploads-failures,uploads-large,uploads-refusals}.test.ts',
  'test/browser/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/db/**/*.test.ts',
  'test/observability/**/*.test.ts',
  'test/sandbox/sandbox.test.ts',
  'test/security/**/*.test.ts',
  'test/temporal/time-skipping.test.ts',
  'test/tooling/**/*.test.ts',
  'test/uploads/{chunk-threads,import-chunk}.test.ts',
  'test/workers/**/*.test.ts',
  'test/workflows/**/*.test.ts',
].map((pattern) => `${__dirname}/${pattern}`);

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [`${__dirname}/test/**/*.test.ts`, ...integration.map((pattern) => `!${pattern}`)],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: integration,
      // In a project, jest runs these only when at least one of the project's files is selected: a unit run
      // neither starts MariaDB nor fetches the Temporal binaries.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/setup-each-file.ts'],
    },
  ],
  // Servers are real (Temporal test server, dev server, MariaDB) and share two cores: this only guards
  // against a hang. A shared machine has been seen running six times slower for minutes, and a test that
  // is merely slower must not fail.
  testTimeout: 600_000,
  // Two cores: more workers only make the Temporal servers fight for CPU.
  maxWorkers: 2,
};
