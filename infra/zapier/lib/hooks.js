'use strict';

const { apiUrl, errorFor } = require('./api');

/**
 * Builds a REST hook trigger for one PyTake event.
 *
 * - performSubscribe: `POST /hooks {hookUrl, event}`; the answer
 *   (`{"id":"hk_...",...}`) is kept by Zapier as `bundle.subscribeData`.
 * - performUnsubscribe: `DELETE /hooks/{id}`; a hook already gone (404, e.g.
 *   PyTake dropped it after Zapier answered 410 Gone) counts as unsubscribed.
 * - perform: the delivered event payload, as is.
 * - performList: `GET /hooks/samples/{event}`, newest first, same shape as
 *   the live payload (Zapier dedupes on `id`).
 *
 * @param {object} opts
 * @param {string} opts.key trigger key
 * @param {string} opts.noun
 * @param {string} opts.label
 * @param {string} opts.description
 * @param {string} opts.event PyTake event name, e.g. `message.received`
 * @param {object} opts.sample one event payload
 * @param {object[]} opts.outputFields
 */
const hookTrigger = ({ key, noun, label, description, event, sample, outputFields }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',

    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${apiUrl(bundle)}/hooks`,
        method: 'POST',
        body: { hookUrl: bundle.targetUrl, event },
      });
      return response.data;
    },

    performUnsubscribe: async (z, bundle) => {
      const id = bundle.subscribeData && bundle.subscribeData.id;
      if (!id) throw new z.errors.Error('No PyTake hook id to unsubscribe.', 'MissingHookId');
      const response = await z.request({
        url: `${apiUrl(bundle)}/hooks/${encodeURIComponent(id)}`,
        method: 'DELETE',
        skipThrowForStatus: true,
      });
      if (response.status === 404) return {};
      const err = errorFor(z, response);
      if (err) throw err;
      return response.data || {};
    },

    perform: (z, bundle) => [bundle.cleanedRequest],

    performList: async (z, bundle) => {
      const response = await z.request({
        url: `${apiUrl(bundle)}/hooks/samples/${encodeURIComponent(event)}`,
      });
      if (!Array.isArray(response.data)) {
        throw new z.errors.Error('PyTake returned no sample list.', 'InvalidResponse');
      }
      return response.data;
    },

    sample,
    outputFields,
  },
});

module.exports = { hookTrigger };
