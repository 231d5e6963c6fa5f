/**
 * Transpile-only transform (swc): type-checking runs once in `npm run lint` (tsc --noEmit),
 * not per test file, which keeps the suite fast on two cores.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  setupFilesAfterEnv: ['<rootDir>/test-support/setup-jest.ts'],
  testTimeout: 60000,
  // jest's default (cores - 1) is one worker on a 2-core machine; most suites wait on synth I/O or local servers.
  maxWorkers: 2,
};
