'use strict';

const { apiUrl } = require('../lib/api');

/** POST /messages with `{to, text}`; PyTake answers 202 with the queued message. */
const perform = async (z, bundle) => {
  const response = await z.request({
    url: `${apiUrl(bundle)}/messages`,
    method: 'POST',
    body: { to: bundle.inputData.to, text: bundle.inputData.text },
  });
  return response.data;
};

module.exports = {
  key: 'send_message',
  noun: 'Message',
  display: {
    label: 'Send Message',
    description: 'Sends a WhatsApp text message to a contact.',
  },
  operation: {
    inputFields: [
      {
        key: 'to',
        label: 'To',
        required: true,
        helpText:
          'Phone number with country code (e.g. `+5511999999999`) or a PyTake contact ID (`ct_...`).',
      },
      {
        key: 'text',
        label: 'Message',
        type: 'text',
        required: true,
        helpText:
          'Free text can only be sent within 24 hours of the customer\'s last message (WhatsApp customer service window).',
      },
    ],
    perform,
    sample: {
      id: 'msg_01JBZ5K7Q3XW8Y2N4M6P9R1T3Z',
      status: 'queued',
      to: '5511999999999',
      type: 'text',
      contact_id: 'ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W',
      conversation_id: 'cv_01JBZ5K7Q3XW8Y2N4M6P9R1T3X',
      created_at: '2026-11-30T12:00:00Z',
    },
    outputFields: [
      { key: 'id', label: 'Message ID', type: 'string' },
      { key: 'status', label: 'Status', type: 'string' },
      { key: 'to', label: 'To', type: 'string' },
      { key: 'type', label: 'Message Type', type: 'string' },
      { key: 'contact_id', label: 'Contact ID', type: 'string' },
      { key: 'conversation_id', label: 'Conversation ID', type: 'string' },
      { key: 'created_at', label: 'Created At', type: 'datetime' },
    ],
  },
};
