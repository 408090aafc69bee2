/**
 * Unit tests run in parallel; integration and end-to-end tests share one broker and run in band; cluster tests
 * own a three-broker cluster and run in band.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/packages/*/test/unit/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/quiet-logs.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
        '<rootDir>/packages/*/test/integration/**/*.test.ts',
      ],
      setupFiles: ['<rootDir>/test/helpers/quiet-logs.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      // Failover tests against a three-broker cluster they start, kill and restart (npm run test:cluster).
      displayName: 'cluster',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/quiet-logs.ts'],
      globalSetup: '<rootDir>/test/cluster/setup.ts',
      globalTeardown: '<rootDir>/test/cluster/teardown.ts',
    },
  ],
};
