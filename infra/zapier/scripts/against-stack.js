'use strict';

/**
 * Runs the app's triggers, actions and search against a running PyTake with
 * real HTTP, through zapier-platform-core's app tester (what `zapier test`
 * uses): the end-to-end suite (infra/e2e/zapier_test.go) runs it against
 * the local stack. Environment:
 *
 *   PYTAKE_API_URL, PYTAKE_API_KEY   the stack and an organisation's key
 *   ZAPIER_CUSTOMER                  a number that wrote in the last 24 hours
 *
 * It plays Zapier's side of the REST hooks with an HTTP server on
 * 127.0.0.1 (the local stack delivers there): subscribe each trigger,
 * create a contact (the New Contact trigger receives contact.created and
 * `perform` reads it), performList (now the real event), unsubscribe.
 * Prints a JSON summary; exits 1 on the first failure.
 */

const http = require('http');
const assert = require('assert');
const zapier = require('zapier-platform-core');
const App = require('..');

const appTester = zapier.createAppTester(App);

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const authData = { api_key: env('PYTAKE_API_KEY'), api_url: env('PYTAKE_API_URL') };
const bundle = (extra = {}) => ({ authData, ...extra });

/** Zapier's hook endpoint: collects what PyTake delivers. */
const catcher = () =>
  new Promise((resolve) => {
    const received = [];
    const waiters = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const item = { path: req.url, headers: req.headers, body: JSON.parse(body) };
        received.push(item);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"status":"success"}');
        waiters.splice(0).forEach((w) => w());
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const wait = async (pred, ms) => {
        const deadline = Date.now() + ms;
        for (;;) {
          const hit = received.find(pred);
          if (hit) return hit;
          if (Date.now() > deadline) throw new Error(`no delivery matched in ${ms} ms; got ${JSON.stringify(received.map((r) => r.body.event))}`);
          await new Promise((r) => {
            waiters.push(r);
            setTimeout(r, 200);
          });
        }
      };
      resolve({ url, wait, close: () => server.close() });
    });
  });

const main = async () => {
  const summary = {};
  const hooks = await catcher();
  try {
    // Authentication: GET /organization.
    const org = await appTester(App.authentication.test, bundle());
    assert.ok(org.id && org.id.startsWith('org_'), JSON.stringify(org));
    summary.authentication = org.id;
    await assert.rejects(
      appTester(App.authentication.test, { authData: { ...authData, api_key: 'pytake_live_wrong' } }),
      /PyTake|unauthorized|key/i,
    );

    // Triggers: subscribe each to its own path of the hook server.
    const subs = {};
    for (const [key, trigger] of Object.entries(App.triggers)) {
      const sub = await appTester(trigger.operation.performSubscribe, bundle({ targetUrl: `${hooks.url}/${key}` }));
      assert.ok(sub.id, `${key} subscribe: ${JSON.stringify(sub)}`);
      subs[key] = sub;
    }
    summary.subscribed = Object.keys(subs);
    // A dispatcher container keeps an organisation's subscriptions for one
    // second: an event fanned out sooner may not see the new hooks yet.
    await new Promise((r) => setTimeout(r, 1200));

    // Search: nothing yet, so find-or-create creates.
    const customer = env('ZAPIER_CUSTOMER');
    const email = `zap-${Date.now()}@example.com`;
    const none = await appTester(App.searches.find_contact.operation.perform, bundle({ inputData: { email } }));
    assert.deepStrictEqual(none, []);

    // Actions.
    const created = await appTester(
      App.creates.create_contact.operation.perform,
      bundle({ inputData: { whatsapp_id: '+55 11 97000-1234', name: 'Zap Contact', email, tags: ['zapier'] } }),
    );
    assert.ok(created.id && created.whatsapp_id === '+5511970001234', JSON.stringify(created));
    const byEmail = await appTester(App.searches.find_contact.operation.perform, bundle({ inputData: { email: email.toUpperCase() } }));
    assert.deepStrictEqual(byEmail.map((c) => c.id), [created.id]);
    const byNumber = await appTester(App.searches.find_contact.operation.perform, bundle({ inputData: { whatsapp_id: '5511970001234' } }));
    assert.deepStrictEqual(byNumber.map((c) => c.id), [created.id]);
    const tagged = await appTester(App.creates.add_tag.operation.perform, bundle({ inputData: { contact_id: created.id, tag: 'vip' } }));
    assert.deepStrictEqual(tagged.tags, ['zapier', 'vip']);
    const sent = await appTester(
      App.creates.send_message.operation.perform,
      bundle({ inputData: { to: customer, text: 'Obrigado por responder! Em breve entraremos em contato.' } }),
    );
    assert.strictEqual(sent.status, 'queued', JSON.stringify(sent));
    summary.actions = { contact: created.id, message: sent.id };

    // The New Contact trigger receives contact.created; perform returns it
    // as Zapier would run it with the delivered request.
    const delivery = await hooks.wait((r) => r.path === '/new_contact' && r.body.data && r.body.data.contact && r.body.data.contact.id === created.id, 30000);
    const performed = await appTester(App.triggers.new_contact.operation.perform, bundle({ cleanedRequest: delivery.body }));
    assert.strictEqual(performed[0].event, 'contact.created');
    // performList now lists the real event, newest first.
    const listed = await appTester(App.triggers.new_contact.operation.performList, bundle());
    assert.ok(listed.length >= 1 && listed[0].event === 'contact.created', JSON.stringify(listed).slice(0, 300));
    assert.ok(listed.some((e) => e.data.contact.id === created.id));
    for (const key of ['new_message', 'conversation_resolved']) {
      const samples = await appTester(App.triggers[key].operation.performList, bundle());
      assert.ok(Array.isArray(samples), key);
    }
    summary.triggered = delivery.body.id;

    // Unsubscribe each; a second unsubscribe finds it gone and still succeeds.
    for (const [key, trigger] of Object.entries(App.triggers)) {
      await appTester(trigger.operation.performUnsubscribe, bundle({ subscribeData: subs[key] }));
      await appTester(trigger.operation.performUnsubscribe, bundle({ subscribeData: subs[key] }));
    }
    summary.unsubscribed = Object.keys(subs);
  } finally {
    hooks.close();
  }
  console.log(JSON.stringify(summary));
};

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
