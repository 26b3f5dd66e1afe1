const base = require('./jest.base.config');
module.exports = { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] };
