/** @type {import('jest').Config} */
const { availableParallelism } = require('node:os');
// ESM-only packages that jest's CommonJS loader cannot require: turned into CommonJS by esbuild.
const esmOnly = ['@middy', '@react-pdf', 'yoga-layout', 'color-string', 'color-name', 'ml-[^/]+', 'is-any-array', 'cheminfo-types', 'fft.js', 'binary-search'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  cacheDirectory: '<rootDir>/.jest-cache',
  transform: { '^.+\\.(tsx?|m?js)$': '<rootDir>/test/support/esbuild-transform.js' },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  // @react-pdf/hyphenate exports its language files to `import` only, which jest's resolver does not take.
  moduleNameMapper: { '^@react-pdf/hyphenate/(.*)$': '<rootDir>/node_modules/@react-pdf/hyphenate/lib/$1.js' },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  testTimeout: 60000,
  // Jest's default (one worker fewer than the cores) runs a 2-core machine's suites one after
  // another, in one process; most suites wait on PostgreSQL, moto, a runtime's threads or a
  // child process for much of their time, so two workers there finish in about half the time.
  maxWorkers: Math.max(2, availableParallelism() - 1),
};
