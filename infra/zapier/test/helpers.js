'use strict';

const nock = require('nock');
const zapier = require('zapier-platform-core');
const App = require('../index');

const API = 'https://api.pytake.test/v1';
const KEY = 'pytake_test_k3y';

/** A bundle authenticated against the test API (plus any extra keys). */
const bundle = (extra = {}) => ({
  authData: { api_key: KEY, api_url: `${API}/` },
  ...extra,
});

/** nock scope for the test API, requiring the Bearer header. */
const api = () =>
  nock('https://api.pytake.test', { reqheaders: { authorization: `Bearer ${KEY}` } });

/** PyTake's error envelope. */
const apiError = (code, message, details = []) => ({
  error: { code, message, details, request_id: 'req_01JBZ5K7Q3XW8Y2N4M6P9R1T40' },
});

module.exports = {
  App,
  API,
  KEY,
  appTester: zapier.createAppTester(App),
  bundle,
  api,
  apiError,
};
