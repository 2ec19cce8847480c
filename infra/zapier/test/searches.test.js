'use strict';

const nock = require('nock');
const { App, appTester, bundle, api } = require('./helpers');

const contact = {
  id: 'ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W',
  name: 'João Silva',
  whatsapp_id: '+5511999999999',
  email: 'joao@example.com',
  tags: ['new_lead'],
  attributes: {},
  created_at: '2026-11-30T12:00:00Z',
};

describe('find_contact', () => {
  const op = App.searches.find_contact.operation;

  it('is paired with create_contact for find-or-create', () => {
    expect(App.searchOrCreates.find_contact).toMatchObject({ search: 'find_contact', create: 'create_contact' });
    const createKeys = App.creates.create_contact.operation.inputFields.map((f) => f.key);
    for (const f of op.inputFields) expect(createKeys).toContain(f.key);
  });

  it('finds by WhatsApp number with one exact lookup', async () => {
    api().get('/v1/contacts').query({ limit: 100, whatsapp_id: '+55 11 99999-9999' }).reply(200, { data: [contact], next_cursor: '' });
    const result = await appTester(op.perform, bundle({ inputData: { whatsapp_id: ' +55 11 99999-9999 ' } }));
    expect(result).toEqual([contact]);
  });

  it('finds by email, following cursors until a page holds a match', async () => {
    api().get('/v1/contacts').query({ limit: 100, email: 'joao@example.com' }).reply(200, { data: [], next_cursor: 'c1' });
    api().get('/v1/contacts').query({ limit: 100, email: 'joao@example.com', cursor: 'c1' }).reply(200, { data: [contact], next_cursor: 'c2' });
    const result = await appTester(op.perform, bundle({ inputData: { email: 'joao@example.com' } }));
    expect(result).toEqual([contact]);
  });

  it('returns nothing when no contact matches (find-or-create then creates)', async () => {
    api().get('/v1/contacts').query({ limit: 100, email: 'nobody@example.com' }).reply(200, { data: [], next_cursor: 'c1' });
    api().get('/v1/contacts').query({ limit: 100, email: 'nobody@example.com', cursor: 'c1' }).reply(200, { data: [], next_cursor: '' });
    const result = await appTester(op.perform, bundle({ inputData: { email: 'nobody@example.com' } }));
    expect(result).toEqual([]);
  });

  it('gives up on email after 20 pages with an error, not "not found" (find-or-create would create a duplicate)', async () => {
    for (let i = 0; i < 20; i++) {
      const q = { limit: 100, email: 'x@example.com' };
      if (i) q.cursor = `c${i}`;
      api().get('/v1/contacts').query(q).reply(200, { data: [], next_cursor: `c${i + 1}` });
    }
    await expect(appTester(op.perform, bundle({ inputData: { email: 'x@example.com' } }))).rejects.toThrow(/first 2,000 contacts.*WhatsApp number/);
    expect(nock.isDone()).toBe(true);
  });

  it('says "not found" when the 20th page is the last', async () => {
    for (let i = 0; i < 20; i++) {
      const q = { limit: 100, email: 'x@example.com' };
      if (i) q.cursor = `c${i}`;
      api().get('/v1/contacts').query(q).reply(200, { data: [], next_cursor: i === 19 ? '' : `c${i + 1}` });
    }
    const result = await appTester(op.perform, bundle({ inputData: { email: 'x@example.com' } }));
    expect(result).toEqual([]);
  });

  it('sends both filters when both are given', async () => {
    api().get('/v1/contacts').query({ limit: 100, whatsapp_id: '+5511999999999', email: 'joao@example.com' }).reply(200, { data: [contact], next_cursor: '' });
    const result = await appTester(op.perform, bundle({ inputData: { whatsapp_id: '+5511999999999', email: 'joao@example.com' } }));
    expect(result).toEqual([contact]);
  });

  it('needs a number or an email', async () => {
    await expect(appTester(op.perform, bundle({ inputData: {} }))).rejects.toThrow(/WhatsApp number or an email/);
  });

  it('surfaces an invalid email as the API words it', async () => {
    api()
      .get('/v1/contacts')
      .query({ limit: 100, email: 'nope' })
      .reply(422, { error: { code: 'validation_failed', message: 'the request is invalid', details: [{ field: 'email', issue: 'is not a valid email address' }], request_id: 'req_1' } });
    await expect(appTester(op.perform, bundle({ inputData: { email: 'nope' } }))).rejects.toThrow(/email: is not a valid email address/);
  });
});
