'use strict';

const { hookTrigger } = require('../lib/hooks');
const f = require('../lib/fields');

module.exports = hookTrigger({
  key: 'new_message',
  noun: 'Message',
  label: 'New Message Received',
  description: 'Triggers when a customer sends a WhatsApp message to your number.',
  event: 'message.received',
  sample: require('../samples/message_received.json'),
  outputFields: [
    ...f.eventFields,
    ...f.messageFields('data__message__'),
    ...f.contactFields('data__contact__'),
    ...f.conversationFields('data__conversation__'),
  ],
});
