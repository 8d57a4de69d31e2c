/** Three tiers, one config: unit (lib + handlers), statemachines (whole workflows in-process), infra (packaged template). */
const common = {
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup/polyfills.ts'],
  // @swc/jest compiles TypeScript and the ESM-only @middy/* packages to CommonJS.
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'statemachines', testMatch: ['<rootDir>/test/statemachines/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
