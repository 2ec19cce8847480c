'use strict';

const { hookTrigger } = require('../lib/hooks');
const f = require('../lib/fields');

module.exports = hookTrigger({
  key: 'conversation_resolved',
  noun: 'Conversation',
  label: 'Conversation Resolved',
  description: 'Triggers when a conversation is marked as resolved.',
  event: 'conversation.resolved',
  sample: require('../samples/conversation_resolved.json'),
  outputFields: [
    ...f.eventFields,
    ...f.conversationFields('data__conversation__'),
    ...f.contactFields('data__contact__'),
    { key: 'data__resolution_time', label: 'Resolution Time (seconds)', type: 'integer' },
    { key: 'data__satisfaction', label: 'Satisfaction Score', type: 'integer' },
  ],
});
