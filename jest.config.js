/**
 * Three jest projects (suites classified by path in test-support/test-projects.js):
 *   npm test               unit only: pure logic and synthesized Terraform (no servers, no subprocesses)
 *   npm run test:all       unit, integration (moto, MariaDB, subprocesses, the local night) and tooling
 *   npx jest --selectProjects integration tooling ...   any subset
 * Transpile-only transform (esbuild, test-support/esbuild-jest-transform.js): type-checking runs once
 * in `npm run lint` (tsc --noEmit), not per test file, which keeps the suite fast on two cores.
 * test-support/synth-cache-setup.js gives the run one directory in which each full-platform variant is
 * synthesized once (test-support/platform-cache.ts).
 */
const { INTEGRATION, TOOLING } = require('./test-support/test-projects');

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  transform: {
    '^.+\\.tsx?$': '<rootDir>/test-support/esbuild-jest-transform.js',
  },
  setupFilesAfterEnv: ['<rootDir>/test-support/setup-jest.ts'],
  globalSetup: '<rootDir>/test-support/synth-cache-setup.js',
  globalTeardown: '<rootDir>/test-support/synth-cache-teardown.js',
};

module.exports = {
  testTimeout: 60000,
  // jest's default (cores - 1) is one worker on a 2-core machine; most suites wait on synth I/O or local servers.
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...[...INTEGRATION, ...TOOLING].map((p) => `^${escape(`${__dirname}/${p}`)}$`)],
      setupFilesAfterEnv: ['<rootDir>/test-support/unit-guard.ts', ...base.setupFilesAfterEnv],
    },
    { ...base, displayName: 'integration', testMatch: INTEGRATION.map((p) => `<rootDir>/${p}`) },
    { ...base, displayName: 'tooling', testMatch: TOOLING.map((p) => `<rootDir>/${p}`) },
  ],
};
