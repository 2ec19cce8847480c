'use strict';

const authentication = require('./authentication');
const { addBearerToken, handleErrors } = require('./lib/middleware');

const newMessage = require('./triggers/new_message');
const newContact = require('./triggers/new_contact');
const conversationResolved = require('./triggers/conversation_resolved');

const sendMessage = require('./creates/send_message');
const createContact = require('./creates/create_contact');
const addTag = require('./creates/add_tag');

const findContact = require('./searches/find_contact');

/** The PyTake Zapier app definition. */
module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,

  authentication,
  beforeRequest: [addBearerToken],
  afterResponse: [handleErrors],

  triggers: {
    [newMessage.key]: newMessage,
    [newContact.key]: newContact,
    [conversationResolved.key]: conversationResolved,
  },
  searches: {
    [findContact.key]: findContact,
  },
  creates: {
    [sendMessage.key]: sendMessage,
    [createContact.key]: createContact,
    [addTag.key]: addTag,
  },
  // Zapier's "Find or create": Find Contact, then Create Contact when none.
  searchOrCreates: {
    [findContact.key]: {
      key: findContact.key,
      display: {
        label: 'Find or Create Contact',
        description: 'Finds a contact by WhatsApp number or email, or creates it.',
      },
      search: findContact.key,
      create: createContact.key,
    },
  },
  resources: {},
};
