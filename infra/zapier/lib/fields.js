'use strict';

/**
 * Output field definitions shared by triggers and actions. Zapier flattens
 * nested objects with `__`, so `data__contact__name` is `data.contact.name`.
 */

/** Fields of the event envelope. */
const eventFields = [
  { key: 'id', label: 'Event ID', type: 'string' },
  { key: 'event', label: 'Event Name', type: 'string' },
  { key: 'timestamp', label: 'Event Time', type: 'datetime' },
  { key: 'organization_id', label: 'Organization ID', type: 'string' },
];

/** Fields of a contact under `prefix` (e.g. `data__contact__`, or `` for a contact object). */
const contactFields = (prefix = '') => [
  { key: `${prefix}id`, label: 'Contact ID', type: 'string' },
  { key: `${prefix}name`, label: 'Contact Name', type: 'string' },
  { key: `${prefix}whatsapp_id`, label: 'Contact WhatsApp Number', type: 'string' },
  { key: `${prefix}email`, label: 'Contact Email', type: 'string' },
  { key: `${prefix}tags`, label: 'Contact Tags', type: 'string', list: true },
  { key: `${prefix}created_at`, label: 'Contact Created At', type: 'datetime' },
];

/** Fields of a conversation under `prefix`. */
const conversationFields = (prefix = '') => [
  { key: `${prefix}id`, label: 'Conversation ID', type: 'string' },
  { key: `${prefix}status`, label: 'Conversation Status', type: 'string' },
  { key: `${prefix}contact_id`, label: 'Conversation Contact ID', type: 'string' },
];

/** Fields of a message under `prefix`. */
const messageFields = (prefix = '') => [
  { key: `${prefix}id`, label: 'Message ID', type: 'string' },
  { key: `${prefix}wamid`, label: 'WhatsApp Message ID', type: 'string' },
  { key: `${prefix}direction`, label: 'Message Direction', type: 'string' },
  { key: `${prefix}type`, label: 'Message Type', type: 'string' },
  { key: `${prefix}content__text`, label: 'Message Text', type: 'string' },
  { key: `${prefix}status`, label: 'Message Status', type: 'string' },
  { key: `${prefix}timestamp`, label: 'Message Time', type: 'datetime' },
  { key: `${prefix}conversation_id`, label: 'Message Conversation ID', type: 'string' },
];

module.exports = { eventFields, contactFields, conversationFields, messageFields };
