'use strict';

const { App, appTester, bundle, api, apiError } = require('./helpers');

const contact = {
  id: 'ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W',
  name: 'João Silva',
  whatsapp_id: '+5511999999999',
  email: 'joao@example.com',
  tags: ['new_lead'],
  attributes: {},
  created_at: '2026-11-30T12:00:00Z',
};

/** nock body matcher that checks the JSON body exactly. */
const bodyIs = (expected) => (body) => {
  expect(body).toEqual(expected);
  return true;
};

describe('send_message', () => {
  const op = App.creates.send_message.operation;

  it('requires to and text', () => {
    const required = op.inputFields.filter((f) => f.required).map((f) => f.key);
    expect(required).toEqual(['to', 'text']);
  });

  it('POSTs {to, text} to /messages and returns the queued message', async () => {
    const queued = {
      id: 'msg_01JBZ5K7Q3XW8Y2N4M6P9R1T3Z',
      status: 'queued',
      to: '5511999999999',
      type: 'text',
      contact_id: contact.id,
      conversation_id: 'cv_01JBZ5K7Q3XW8Y2N4M6P9R1T3X',
      created_at: '2026-11-30T12:00:00Z',
    };
    api()
      .post('/v1/messages', bodyIs({ to: '+5511999999999', text: 'Obrigado por responder!' }))
      .reply(202, queued);
    const result = await appTester(
      op.perform,
      bundle({ inputData: { to: '+5511999999999', text: 'Obrigado por responder!' } }),
    );
    expect(result).toEqual(queued);
  });

  it('surfaces an API 422 with its message', async () => {
    api()
      .post('/v1/messages')
      .reply(
        422,
        apiError(
          'outside_customer_service_window',
          'the customer has never written: only an approved template can start the conversation',
          [{ field: 'type', issue: 'free-form messages need a customer message in the last 24 hours; send a template' }],
        ),
      );
    const err = await appTester(
      op.perform,
      bundle({ inputData: { to: '+5511888888888', text: 'oi' } }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    const info = JSON.parse(err.message);
    expect(info.status).toBe(422);
    expect(info.code).toBe('outside_customer_service_window');
    expect(info.message).toContain(
      'the customer has never written: only an approved template can start the conversation',
    );
    expect(info.message).toContain('type: free-form messages need a customer message');
    expect(info.message).toContain('req_01JBZ5K7Q3XW8Y2N4M6P9R1T40');
  });

  it('falls back to the HTTP status when the error body is not JSON', async () => {
    api().post('/v1/messages').reply(502, 'Bad Gateway', { 'Content-Type': 'text/plain' });
    await expect(
      appTester(op.perform, bundle({ inputData: { to: '+5511999999999', text: 'x' } })),
    ).rejects.toThrow('PyTake API answered HTTP 502');
  });
});

describe('create_contact', () => {
  const op = App.creates.create_contact.operation;

  it('POSTs the contact to /contacts and returns it', async () => {
    api()
      .post(
        '/v1/contacts',
        bodyIs({
          whatsapp_id: '+5511999999999',
          name: 'João Silva',
          email: 'joao@example.com',
          tags: ['new_lead', 'vip'],
        }),
      )
      .reply(201, contact);
    const result = await appTester(
      op.perform,
      bundle({
        inputData: {
          whatsapp_id: '+5511999999999',
          name: 'João Silva',
          email: 'joao@example.com',
          tags: ['new_lead', ' vip ', ''],
        },
      }),
    );
    expect(result).toEqual(contact);
  });

  it('leaves out empty optional fields', async () => {
    api().post('/v1/contacts', bodyIs({ whatsapp_id: '+5511999999999' })).reply(201, contact);
    await appTester(op.perform, bundle({ inputData: { whatsapp_id: '+5511999999999', name: '' } }));
  });

  it('surfaces an API 422 with its message', async () => {
    api()
      .post('/v1/contacts')
      .reply(
        422,
        apiError('validation_failed', 'The request is invalid.', [
          { field: 'whatsapp_id', issue: 'must be a phone number with country code' },
        ]),
      );
    await expect(
      appTester(op.perform, bundle({ inputData: { whatsapp_id: '123' } })),
    ).rejects.toThrow('The request is invalid. (whatsapp_id: must be a phone number with country code)');
  });
});

describe('add_tag', () => {
  const op = App.creates.add_tag.operation;

  it('POSTs {tags:[tag]} to /contacts/{id}/tags and returns the contact', async () => {
    const tagged = { ...contact, tags: ['new_lead', 'purchased'] };
    api()
      .post(`/v1/contacts/${contact.id}/tags`, bodyIs({ tags: ['purchased'] }))
      .reply(200, tagged);
    const result = await appTester(
      op.perform,
      bundle({ inputData: { contact_id: contact.id, tag: 'purchased' } }),
    );
    expect(result).toEqual(tagged);
  });

  it('surfaces a 404 with the API message', async () => {
    api()
      .post('/v1/contacts/ct_missing/tags')
      .reply(404, apiError('not_found', 'contact ct_missing not found'));
    await expect(
      appTester(op.perform, bundle({ inputData: { contact_id: 'ct_missing', tag: 'x' } })),
    ).rejects.toThrow('contact ct_missing not found');
  });
});
