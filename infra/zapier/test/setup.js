'use strict';

/**
 * Runs in every test file (jest `setupFilesAfterEnv`): no real network, every
 * nock mock a test sets up must be used by it, and nock's patch of Node's
 * `http` module (shared by all test files of a Jest worker) is undone at
 * the end of the file so the next file's fresh nock installs its own.
 */
const nock = require('nock');

beforeAll(() => {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});
