'use strict';

const { apiUrl } = require('../lib/api');
const { contactSample, contactOutputFields } = require('../lib/contact');

/** POST /contacts; empty optional fields are left out of the request. */
const perform = async (z, bundle) => {
  const { whatsapp_id, name, email, tags } = bundle.inputData;
  const body = { whatsapp_id };
  if (name) body.name = name;
  if (email) body.email = email;
  const tagList = (tags || []).map((t) => String(t).trim()).filter(Boolean);
  if (tagList.length) body.tags = tagList;
  const response = await z.request({ url: `${apiUrl(bundle)}/contacts`, method: 'POST', body });
  return response.data;
};

module.exports = {
  key: 'create_contact',
  noun: 'Contact',
  display: {
    label: 'Create Contact',
    description: 'Creates a new contact in PyTake.',
  },
  operation: {
    inputFields: [
      {
        key: 'whatsapp_id',
        label: 'WhatsApp Number',
        required: true,
        helpText: 'Phone number with country code, e.g. `+5511999999999`.',
      },
      { key: 'name', label: 'Name', required: false },
      { key: 'email', label: 'Email', required: false },
      { key: 'tags', label: 'Tags', list: true, required: false },
    ],
    perform,
    sample: contactSample,
    outputFields: contactOutputFields,
  },
};
