// Lint stays light (recommended rules, no style) so `npm run lint` is fast; tsc does the typing.
// The one rule that matters is the determinism fence around workflow code.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const DETERMINISTIC = ['src/workflows/**', 'src/brain/**', 'src/report/**'];

const nodeMessage =
  'Workflow code (and the pure helpers it imports) runs in the deterministic Temporal sandbox: no Node built-ins. Do I/O in an activity (src/activities).';
const temporalMessage =
  'Workflow code may only import @temporalio/workflow and @temporalio/common; client, worker and activity APIs belong to workers and activities.';

export default defineConfig(
  {
    ignores: ['node_modules/', '.tools/', '.bulkhead/', 'dist/', 'out/', 'bench/tmp/', 'bin/', 'deploy/', 'scenarios/', '*.config.*'],
  },
  {
    files: ['src/**/*.{ts,mts,js,mjs}', 'test/**/*.{ts,mts,js,mjs}', 'scripts/**/*.{ts,mts,js,mjs}'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Used on purpose for declaration merging (e.g. vitest's ProvidedContext).
      '@typescript-eslint/no-namespace': 'off',
    },
  },
  {
    files: DETERMINISTIC,
    rules: {
      // The TypeScript variant so `import type` (erased at build) stays allowed.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: nodeMessage, allowTypeImports: true })),
            ...['@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map((name) => ({ name, message: temporalMessage, allowTypeImports: true })),
          ],
          patterns: [
            { group: ['node:*'], message: nodeMessage, allowTypeImports: true },
            { group: ['@temporalio/client/*', '@temporalio/worker/*', '@temporalio/activity/*'], message: temporalMessage, allowTypeImports: true },
          ],
        },
      ],
    },
  },
);
