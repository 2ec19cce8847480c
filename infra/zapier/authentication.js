'use strict';

const { DEFAULT_API_URL, apiUrl } = require('./lib/api');

/**
 * Custom (API key) authentication. The key is sent as
 * `Authorization: Bearer <api_key>` by the beforeRequest middleware.
 */
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText: 'Your PyTake API key (starts with `pytake_live_` or `pytake_test_`).',
    },
    {
      key: 'api_url',
      label: 'API URL',
      type: 'string',
      required: false,
      default: DEFAULT_API_URL,
      helpText: `Only change this for a self-hosted PyTake. Defaults to ${DEFAULT_API_URL}.`,
    },
  ],
  /** GET /organization: succeeds for a valid key; 401 becomes an auth error. */
  test: async (z, bundle) => {
    const response = await z.request({ url: `${apiUrl(bundle)}/organization` });
    return response.data;
  },
  connectionLabel: '{{bundle.inputData.name}}',
};
