'use strict';

/** Base URL used when the connection leaves `api_url` empty. */
const DEFAULT_API_URL = 'https://api.pytake.com/v1';

/**
 * The PyTake API base URL of a connection, without a trailing slash.
 * @param {object} bundle Zapier bundle (reads `bundle.authData.api_url`).
 * @returns {string}
 */
const apiUrl = (bundle) =>
  (String((bundle.authData && bundle.authData.api_url) || '').trim() || DEFAULT_API_URL).replace(
    /\/+$/,
    '',
  );

/**
 * Reads PyTake's error envelope `{"error":{code,message,details,request_id}}`
 * from a response; `{}` when the body is not one.
 */
const apiError = (response) => {
  let body = response.data;
  if (body === undefined) {
    try {
      body = JSON.parse(response.content);
    } catch (e) {
      body = undefined;
    }
  }
  return body && typeof body.error === 'object' && body.error !== null ? body.error : {};
};

/**
 * Builds the error to throw for a 4xx/5xx response, or returns null for a
 * success. The message is the API's `error.message`, followed by the field
 * issues (`details`) and the `request_id` when the API gave them.
 * @returns {Error|null}
 */
const errorFor = (z, response) => {
  if (response.status < 400) return null;
  const err = apiError(response);
  let message = err.message || `PyTake API answered HTTP ${response.status}.`;
  if (Array.isArray(err.details) && err.details.length) {
    const issues = err.details.map((d) => (d.field ? `${d.field}: ${d.issue}` : d.issue));
    message += ` (${issues.join('; ')})`;
  }
  if (err.request_id) message += ` [request_id: ${err.request_id}]`;
  if (response.status === 401) {
    return new z.errors.Error(message, 'AuthenticationError', 401);
  }
  return new z.errors.Error(message, err.code || 'ApiError', response.status);
};

module.exports = { DEFAULT_API_URL, apiUrl, errorFor };
