'use strict';

const { apiUrl } = require('../lib/api');
const { contactSample, contactOutputFields } = require('../lib/contact');

/** POST /contacts/{contact_id}/tags with `{"tags":[tag]}`; answers the updated contact. */
const perform = async (z, bundle) => {
  const id = encodeURIComponent(bundle.inputData.contact_id);
  const response = await z.request({
    url: `${apiUrl(bundle)}/contacts/${id}/tags`,
    method: 'POST',
    body: { tags: [bundle.inputData.tag] },
  });
  return response.data;
};

module.exports = {
  key: 'add_tag',
  noun: 'Tag',
  display: {
    label: 'Add Tag to Contact',
    description: 'Adds a tag to an existing contact.',
  },
  operation: {
    inputFields: [
      {
        key: 'contact_id',
        label: 'Contact ID',
        required: true,
        helpText: 'The PyTake contact ID (`ct_...`), e.g. from a trigger.',
      },
      { key: 'tag', label: 'Tag', required: true },
    ],
    perform,
    sample: { ...contactSample, tags: ['customer', 'purchased'] },
    outputFields: contactOutputFields,
  },
};
