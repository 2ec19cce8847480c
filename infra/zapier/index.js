'use strict';

const authentication = require('./authentication');
const { addBearerToken, handleErrors } = require('./lib/middleware');

const newMessage = require('./triggers/new_message');
const newContact = require('./triggers/new_contact');
const conversationResolved = require('./triggers/conversation_resolved');

const sendMessage = require('./creates/send_message');
const createContact = require('./creates/create_contact');
const addTag = require('./creates/add_tag');

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
  searches: {},
  creates: {
    [sendMessage.key]: sendMessage,
    [createContact.key]: createContact,
    [addTag.key]: addTag,
  },
  resources: {},
};
