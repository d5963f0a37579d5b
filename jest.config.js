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
  // Each suite starts its own local stack (wrangler dev); two cores run two at a time.
  maxWorkers: 2,
};
