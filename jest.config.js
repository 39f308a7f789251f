/** @type {import('jest').Config} */
const transform = { '^.+\\.tsx?$': ['ts-jest', { isolatedModules: true, diagnostics: false }] };
// Type errors are caught by `npm run typecheck`; ts-jest only transpiles, which keeps the suite fast.
const kind = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  ...extra,
});
module.exports = {
  projects: [
    kind('unit', { setupFilesAfterEnv: ['<rootDir>/test/unit/setup.ts'] }),
    kind('infra'),
    kind('integration'),
    kind('trust'),
  ],
};
