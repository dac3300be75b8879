// ESLint 9 flat config (run: npm run lint:eslint).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SQL_MESSAGE = 'SQL text lives in src/db: add a typed function there';

export default defineConfig(
  { ignores: ['dist/', 'reports/', '.stryker-tmp/', 'coverage/', 'bench/results/', '.data/'] },

  // TypeScript everywhere (src, workers, test, bench, scripts, migrations), with type information from tsconfig.json.
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Already errors in recommendedTypeChecked; listed so a preset change cannot quietly turn them off.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      // A leading underscore marks a value left out on purpose (an unused handler argument, a field dropped by a rest pattern).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },

  // SQL stays in src/db: no knex raw-SQL calls and no direct pg import anywhere else in the app or the workers.
  {
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          // .raw(), .whereRaw(), .orWhereRaw(), .orderByRaw(), .joinRaw(), .selectRaw(), ... on any object
          // except express.raw() / bodyParser.raw(), the raw-body parser (used by the Stripe webhook).
          selector: 'CallExpression > MemberExpression.callee[property.name=/Raw$|^raw$/]:not([object.name=/^(express|bodyParser)$/])',
          message: SQL_MESSAGE,
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'pg', message: `pg is imported only in src/db: ${SQL_MESSAGE}` }],
          patterns: [{ group: ['pg/*'], message: `pg is imported only in src/db: ${SQL_MESSAGE}` }],
        },
      ],
    },
  },

  // public/*.js are classic browser scripts (<script defer>), not modules and not type-checked.
  {
    files: ['public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },

  // Tooling configs and scripts written in plain JavaScript (ESM, Node).
  {
    files: ['*.js', '*.mjs', 'scripts/**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
);
