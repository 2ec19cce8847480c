'use strict';

const { contactFields } = require('./fields');

/** A contact as the API returns it (POST /contacts, POST /contacts/{id}/tags). */
const contactSample = {
  id: 'ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W',
  name: 'João Silva',
  whatsapp_id: '+5511999999999',
  email: 'joao@example.com',
  tags: ['customer'],
  attributes: { plan: 'pro' },
  created_at: '2026-11-30T12:00:00Z',
};

module.exports = { contactSample, contactOutputFields: contactFields() };
