'use strict';

const nock = require('nock');
const { App, KEY, appTester, bundle, api, apiError } = require('./helpers');

describe('authentication', () => {

  const org = {
    id: 'org_01JBZ5K7Q3XW8Y2N4M6P9R1T3V',
    name: 'Loja Exemplo',
    created_at: '2026-01-10T09:00:00Z',
    api_key: { id: 'key_1', mode: 'test', prefix: 'pytake_test_', last4: 'k3y' },
  };

  it('is custom auth with api_key (password) and an optional api_url', () => {
    const { type, fields, connectionLabel } = App.authentication;
    expect(type).toBe('custom');
    const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
    expect(byKey.api_key).toMatchObject({ type: 'password', required: true });
    expect(byKey.api_url).toMatchObject({ required: false, default: 'https://api.pytake.com/v1' });
    expect(connectionLabel).toBe('{{bundle.inputData.name}}');
  });

  it('test: GET /organization with the Bearer key (trailing slash of api_url ignored)', async () => {
    api().get('/v1/organization').reply(200, org);
    const result = await appTester(App.authentication.test, bundle());
    expect(result).toEqual(org);
  });

  it('test: defaults to https://api.pytake.com/v1 when api_url is empty', async () => {
    nock('https://api.pytake.com', { reqheaders: { authorization: `Bearer ${KEY}` } })
      .get('/v1/organization')
      .reply(200, org);
    const result = await appTester(App.authentication.test, {
      authData: { api_key: KEY, api_url: '' },
    });
    expect(result.name).toBe('Loja Exemplo');
  });

  it('test: 401 is an authentication error with the API message', async () => {
    api()
      .get('/v1/organization')
      .reply(401, apiError('unauthorized', 'The API key is invalid or was revoked.'));
    const err = await appTester(App.authentication.test, bundle()).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    const info = JSON.parse(err.message);
    expect(info).toMatchObject({
      code: 'AuthenticationError',
      status: 401,
    });
    expect(info.message).toContain('The API key is invalid or was revoked.');
  });
});
