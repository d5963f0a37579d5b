// ESM TypeScript through ts-jest; run with node --experimental-vm-modules (see package.json).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The benchmark's corpus (npm run bench) holds copies of packages: keep jest out of it.
  modulePathIgnorePatterns: ['<rootDir>/.bench/'],
  testTimeout: 120000,
  // Three suites at a time on two cores: most of a suite's time is spent waiting on wrangler,
  // git, tar and the action's processes (a 2-worker run kept 1.35 cores busy). Each worker has a
  // local stack (wrangler dev) that the suites needing no Worker configuration of their own
  // share (test/helpers/shared-stack.ts).
  maxWorkers: 3,
  globalSetup: '<rootDir>/test/setup/start-shared-stacks.ts',
  globalTeardown: '<rootDir>/test/setup/stop-shared-stacks.ts',
};
