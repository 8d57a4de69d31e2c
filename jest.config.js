/**
 * Four tiers, one config: unit (lib + handlers), statemachines (whole workflows in-process),
 * infra (the packaged template), chaos (whole workflows under seeded random faults, 100 runs
 * each). ts-jest only transpiles (tsconfig isolatedModules); `npm run typecheck` type-checks the
 * tests with the rest of the code.
 */
const common = {
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup/polyfills.ts'],
  // ts-jest also compiles the ESM-only @middy/* packages to CommonJS.
  transform: { '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'statemachines', testMatch: ['<rootDir>/test/statemachines/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] },
  ],
};
