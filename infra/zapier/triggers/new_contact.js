'use strict';

const { hookTrigger } = require('../lib/hooks');
const f = require('../lib/fields');

module.exports = hookTrigger({
  key: 'new_contact',
  noun: 'Contact',
  label: 'New Contact Created',
  description:
    'Triggers when a contact is created (first message from a new number, or through the API).',
  event: 'contact.created',
  sample: require('../samples/contact_created.json'),
  outputFields: [...f.eventFields, ...f.contactFields('data__contact__')],
});
