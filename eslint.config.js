// @ts-check
// CommonJS because package.json has no "type": "module".
const { defineConfig } = require('eslint/config');
const tseslint = require('typescript-eslint');
const jest = require('eslint-plugin-jest');

const TS_SOURCES = ['{bin,lib,functions,test,bench}/**/*.ts', 'web/src/**/*.{ts,tsx}'];
const TESTS = ['test/**/*.ts'];

module.exports = defineConfig(
  {
    // The JavaScript files are build and jest plumbing; only this file is linted among them.
    ignores: ['node_modules/', 'dist/', 'cdk.out/', '.data/', '.jest-cache/', 'coverage/', 'web/dist/', '**/*.js', '!eslint.config.js'],
  },
  {
    files: ['eslint.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: { 'no-undef': 'error', 'no-unused-vars': 'error' },
  },
  {
    files: TS_SOURCES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      // The point of the lint (STYLE.md 12): a promise nobody awaits loses its error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // In-memory adapters implement async ports without awaiting anything; that is correct.
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names mark a position that must be there but is not read (callbacks, tuples).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: TESTS,
    extends: [jest.configs['flat/recommended']],
    rules: {
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      // CDK assertions (aws-cdk-lib/assertions) assert without `expect`; so do shared checks
      // named expectSomething.
      'jest/expect-expect': [
        'error',
        {
          assertFunctionNames: [
            'expect',
            'expect*',
            '**.hasResourceProperties',
            '**.hasResource',
            '**.resourceCountIs',
            '**.resourcePropertiesCountIs',
            '**.hasOutput',
            '**.templateMatches',
            '**.hasError',
            '**.hasWarning',
            '**.hasNoError',
            '**.hasNoWarning',
          ],
        },
      ],
      // Tests walk untyped JSON (documents, HTTP bodies) on purpose; `any` there is the point.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // `expect(mock.method)` is how jest asserts on methods; the jest variant knows that.
      '@typescript-eslint/unbound-method': 'off',
      'jest/unbound-method': 'error',
    },
  },
);
