const base = require('./jest.base.config');
module.exports = {
  ...base,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'],
  testTimeout: 60000,
};
