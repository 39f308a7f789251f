/** @type {import('jest').Config} */
// Type errors are caught by `npm run typecheck`; ts-jest only transpiles (tsconfig's isolatedModules),
// which keeps the suite fast.
const transform = { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] };
// The pinned SDK warns on every client that future versions will need Node 22; the tests run on the
// machine's Node 20 on purpose (local mode supports it), so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
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
    kind('integration'),
    kind('trust'),
  ],
};
