// @ts-check
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries,
// and activities only as types (proxyActivities supplies the implementation).
const workflowForbiddenImports = {
  paths: [
    ...builtinModules.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
    ...builtinModules.map((name) => ({
      name: `node:${name}`,
      message: 'Workflow code must not use Node built-ins.',
    })),
  ],
  patterns: [
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
      message: 'Workflow code may only use @temporalio/workflow and @temporalio/common.',
    },
    { group: ['knex', 'mysql2', 'mysql2/*', 'koa', '@koa/*'], message: 'Workflow code must not do I/O.' },
    {
      group: [
        '**/activities',
        '**/activities/**',
        '**/api/**',
        '**/db/**',
        '**/config',
        '**/config/**',
        '**/crypto/**',
        '**/temporal/**',
      ],
      allowTypeImports: true,
      message: 'Workflow code imports only types of activities and no I/O modules.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The failure converter is bundled into the workflow sandbox too.
    files: [
      'src/workflows/**/*.ts',
      'src/domain/**/*.ts',
      'src/temporal/failure-converter.ts',
      'bench/engine-floor/workflow.ts',
      'bench/engine-floor/messages.ts',
    ],
    rules: { 'no-restricted-imports': ['error', workflowForbiddenImports] },
  },
  {
    // Tests read JSON bodies whose shape is the assertion itself; typing each one would only add noise.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
  },
);
