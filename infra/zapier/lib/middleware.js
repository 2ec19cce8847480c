'use strict';

const { errorFor } = require('./api');

/** beforeRequest: authenticates every request with the connection's API key. */
const addBearerToken = (request, z, bundle) => {
  const key = bundle.authData && bundle.authData.api_key;
  request.headers = { Accept: 'application/json', ...request.headers };
  if (key) request.headers.Authorization = `Bearer ${key}`;
  return request;
};

/**
 * afterResponse: turns 401 into an authentication error and any other 4xx/5xx
 * into an error carrying the API's `error.message`. Requests made with
 * `skipThrowForStatus: true` handle their status themselves.
 * (429 never gets here: zapier-platform-core raises a ThrottledError first,
 * honouring Retry-After.)
 */
const handleErrors = (response, z) => {
  if (response.skipThrowForStatus) return response;
  const err = errorFor(z, response);
  if (err) throw err;
  return response;
};

module.exports = { addBearerToken, handleErrors };
