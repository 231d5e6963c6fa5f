/**
 * Transpile-only transform (esbuild, test-support/esbuild-jest-transform.js): type-checking runs once
 * in `npm run lint` (tsc --noEmit), not per test file, which keeps the suite fast on two cores.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': '<rootDir>/test-support/esbuild-jest-transform.js',
  },
  setupFilesAfterEnv: ['<rootDir>/test-support/setup-jest.ts'],
  testTimeout: 60000,
  // jest's default (cores - 1) is one worker on a 2-core machine; most suites wait on synth I/O or local servers.
  maxWorkers: 2,
};
