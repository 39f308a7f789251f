/** @type {import('jest').Config} */
// Type errors are caught by `npm run typecheck`; ts-jest only transpiles (tsconfig's isolatedModules),
// which keeps the suite fast.
const transform = { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] };
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
    // restoreMocks: a console spy (or any jest.spyOn) in one test must not silence the next one.
    kind('unit', { setupFilesAfterEnv: ['<rootDir>/test/unit/setup.ts'], restoreMocks: true }),
    kind('infra'),
    kind('integration', { setupFilesAfterEnv: ['<rootDir>/test/over-http-setup.ts'] }),
    kind('trust', { setupFilesAfterEnv: ['<rootDir>/test/over-http-setup.ts'] }),
  ],
};
