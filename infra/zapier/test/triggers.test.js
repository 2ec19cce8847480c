'use strict';

const { App, appTester, bundle, api } = require('./helpers');

const cases = [
  ['new_message', 'message.received', 'New Message Received'],
  ['new_contact', 'contact.created', 'New Contact Created'],
  ['conversation_resolved', 'conversation.resolved', 'Conversation Resolved'],
];

describe.each(cases)('trigger %s (%s)', (key, event, label) => {
  const trigger = App.triggers[key];
  const op = trigger.operation;
  const targetUrl = `https://hooks.zapier.com/hooks/standard/123/${key}/`;

  it('is a REST hook trigger with a live-shaped sample', () => {
    expect(trigger.display.label).toBe(label);
    expect(op.type).toBe('hook');
    expect(op.sample).toMatchObject({ event, id: expect.stringMatching(/^evt_/) });
    expect(op.outputFields.map((f) => f.key)).toEqual(expect.arrayContaining(['id', 'event']));
  });

  it('subscribes with hookUrl and event', async () => {
    const hook = { id: 'hk_01JBZ5K7Q3XW8Y2N4M6P9R1T41', event, url: targetUrl };
    api()
      .post('/v1/hooks', (body) => {
        expect(body).toEqual({ hookUrl: targetUrl, event });
        return true;
      })
      .matchHeader('content-type', /application\/json/)
      .reply(201, hook);
    const result = await appTester(op.performSubscribe, bundle({ targetUrl }));
    expect(result).toEqual(hook);
  });

  it('unsubscribes with DELETE /hooks/{id}', async () => {
    api().delete('/v1/hooks/hk_01JBZ5K7Q3XW8Y2N4M6P9R1T41').reply(204);
    const result = await appTester(
      op.performUnsubscribe,
      bundle({ subscribeData: { id: 'hk_01JBZ5K7Q3XW8Y2N4M6P9R1T41', event } }),
    );
    expect(result).toEqual({});
  });

  it('treats a hook already gone (404) as unsubscribed', async () => {
    api()
      .delete('/v1/hooks/hk_gone')
      .reply(404, { error: { code: 'not_found', message: 'hook not found' } });
    const result = await appTester(op.performUnsubscribe, bundle({ subscribeData: { id: 'hk_gone' } }));
    expect(result).toEqual({});
  });

  it('fails unsubscribe on other errors with the API message', async () => {
    api()
      .delete('/v1/hooks/hk_1')
      .reply(500, { error: { code: 'internal', message: 'something broke' } });
    await expect(
      appTester(op.performUnsubscribe, bundle({ subscribeData: { id: 'hk_1' } })),
    ).rejects.toThrow('something broke');
  });

  it('perform returns the delivered payload', async () => {
    const payload = op.sample;
    const result = await appTester(op.perform, bundle({ cleanedRequest: payload }));
    expect(result).toEqual([payload]);
  });

  it('performList returns the samples endpoint array', async () => {
    const older = { ...op.sample, id: 'evt_older', timestamp: '2026-11-29T12:00:00Z' };
    api().get(`/v1/hooks/samples/${event}`).reply(200, [op.sample, older]);
    const result = await appTester(op.performList, bundle());
    expect(Array.isArray(result)).toBe(true);
    expect(result.map((e) => e.id)).toEqual([op.sample.id, 'evt_older']);
  });

  it('performList rejects a non-array answer', async () => {
    api().get(`/v1/hooks/samples/${event}`).reply(200, { data: [] });
    await expect(appTester(op.performList, bundle())).rejects.toThrow('no sample list');
  });
});

it('every trigger sample has the data its event carries', () => {
  const { new_message, new_contact, conversation_resolved } = App.triggers;
  expect(Object.keys(new_message.operation.sample.data).sort()).toEqual([
    'contact',
    'conversation',
    'message',
  ]);
  expect(Object.keys(new_contact.operation.sample.data)).toEqual(['contact']);
  expect(conversation_resolved.operation.sample.data).toMatchObject({
    resolution_time: 5400,
    satisfaction: 5,
    conversation: { status: 'resolved' },
  });
});
