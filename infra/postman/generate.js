#!/usr/bin/env node
// Generates the Postman collection and environment from PyTake's OpenAPI
// document (internal/api/openapi.json):
//
//   node generate.js           write pytake.postman_collection.json and
//                              pytake-local.postman_environment.json
//   node generate.js --check   exit 1 when they are stale (npm test runs it)
//
// Each operation becomes a request (method, path, documented query
// parameters, the example body below, mostly the integrations guide's) with
// test scripts checking its status code and its body against the
// operation's response schema. FLOW orders the requests so that a run
// against a fresh organisation passes: ids made by one request feed the next
// through collection variables. Every operationId of the document must be in
// FLOW exactly once, or generation fails.

'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'internal', 'api', 'openapi.json');
const COLLECTION = path.join(__dirname, 'pytake.postman_collection.json');
const ENVIRONMENT = path.join(__dirname, 'pytake-local.postman_environment.json');
const POSTMAN_SCHEMA = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';

// Example bodies. The guide's where it has one (contacts, the transactional
// template, the chatbot, the webhook URL); the README's otherwise.
const GUIDE_CONTACT = {
  whatsapp_id: '+5511988887777',
  name: 'João',
  email: 'joao@example.com',
  tags: ['new_lead'],
};
const GUIDE_PURCHASE = {
  tags: ['customer', 'purchased'],
  attributes: { last_purchase: '2025-10-03', total_spent: 150.0 },
};
const GUIDE_ORDER_UPDATE = {
  to: '{{recipient}}',
  type: 'template',
  template: {
    name: 'order_update',
    language: { code: 'pt_BR' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: '1001' },
          { type: 'text', text: 'enviado' },
        ],
      },
    ],
  },
};
const GUIDE_CHATBOT = { name: 'Atendimento', welcome_message: 'Olá! Como posso ajudar?' };

// FLOW: folders in run order, each with its operations in run order.
//   expect: accepted statuses (default: the operation's documented 2xx)
//   params: path parameter -> value; query: query parameter -> value
//   save:   collection variable -> JavaScript expression on the JSON body `j`
const FLOW = [
  {
    folder: 'Meta',
    description: 'Liveness and the OpenAPI document; no key needed.',
    ops: [{ id: 'getHealth' }, { id: 'getOpenAPI' }],
  },
  { folder: 'Organization', ops: [{ id: 'getOrganization', save: { organizationId: 'j.id' } }] },
  {
    folder: 'Settings',
    description: 'The WhatsApp connection. Fill phoneNumberId, whatsappAccessToken, whatsappAppSecret and whatsappVerifyToken in the environment first.',
    ops: [
      {
        id: 'putWhatsAppSettings',
        body: {
          phone_number_id: '{{phoneNumberId}}',
          waba_id: '{{wabaId}}',
          access_token: '{{whatsappAccessToken}}',
          app_secret: '{{whatsappAppSecret}}',
          verify_token: '{{whatsappVerifyToken}}',
        },
      },
      { id: 'getWhatsAppSettings' },
      { id: 'testWhatsAppSettings' },
      { id: 'putPhoneSettings', body: { default_country: 'BR' } },
      { id: 'getPhoneSettings' },
      { id: 'putOptOutSettings', body: { keywords: ['STOP', 'PARAR', 'SAIR', 'CANCELAR', 'DESCADASTRAR'], confirmation: null } },
      { id: 'getOptOutSettings' },
    ],
  },
  {
    folder: 'Contacts',
    ops: [
      { id: 'createContact', body: GUIDE_CONTACT, save: { contactId: 'j.id' } },
      { id: 'listContacts', query: { limit: '100' } },
      { id: 'getContact', params: { id: '{{contactId}}' } },
      { id: 'updateContact', params: { id: '{{contactId}}' }, body: GUIDE_PURCHASE },
      { id: 'addContactTags', params: { id: '{{contactId}}' }, body: { tags: ['vip'] } },
      { id: 'removeContactTag', params: { id: '{{contactId}}', tag: 'vip' } },
      { id: 'optInContact', params: { id: '{{contactId}}' } },
    ],
  },
  {
    folder: 'Messages',
    description: 'A template goes out whenever; a text only within 24 hours of the customer\'s last message ({"to": "+5511999999999", "text": "Olá!"}).',
    ops: [
      {
        id: 'sendMessage',
        body: GUIDE_ORDER_UPDATE,
        headers: { 'Idempotency-Key': '{{$guid}}' },
        save: { messageId: 'j.id', conversationId: 'j.conversation_id' },
      },
      { id: 'getMessage', params: { id: '{{messageId}}' } },
      // The run's message is one PyTake sent: marking it read is a 422 (a
      // customer's message is 200).
      { id: 'markMessageRead', params: { id: '{{messageId}}' }, body: { typing: true }, expect: [200, 422] },
      // Sent at once, not scheduled (send_at): cancelling it is a 409
      // message_not_scheduled (a scheduled message's cancel is 200).
      { id: 'cancelMessage', params: { id: '{{messageId}}' }, expect: [200, 409] },
    ],
  },
  {
    folder: 'Campaigns',
    description: 'A template broadcast to contacts with tags (all of them) and/or by id; {{contact.first_name}} and the like are filled per recipient. The run schedules one for tomorrow and cancels it.',
    ops: [
      {
        id: 'createCampaign',
        body: {
          name: 'Postman',
          template: { name: 'order_update', language: { code: 'pt_BR' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '{{contact.first_name}}', default: 'cliente' }, { type: 'text', text: 'enviado' }] }] },
          audience: { contact_ids: ['{{contactId}}'] },
          send_at: '{{campaignSendAt}}',
        },
        save: { campaignId: 'j.id' },
      },
      { id: 'listCampaigns', query: { limit: '20' } },
      { id: 'getCampaign', params: { id: '{{campaignId}}' } },
      { id: 'listCampaignRecipients', params: { id: '{{campaignId}}' }, query: { limit: '20' } },
      { id: 'pauseCampaign', params: { id: '{{campaignId}}' } },
      { id: 'resumeCampaign', params: { id: '{{campaignId}}' } },
      { id: 'cancelCampaign', params: { id: '{{campaignId}}' } },
      // The Contacts folder's contact, the campaign's audience, goes last.
      { id: 'deleteContact', params: { id: '{{contactId}}' } },
    ],
  },
  {
    folder: 'Conversations',
    ops: [
      { id: 'listConversations', query: { status: 'open', limit: '20' } },
      { id: 'getConversation', params: { id: '{{conversationId}}' } },
      { id: 'listConversationMessages', params: { id: '{{conversationId}}' }, query: { limit: '20' } },
      { id: 'updateConversation', params: { id: '{{conversationId}}' }, body: { status: 'resolved', satisfaction: 5 } },
    ],
  },
  {
    folder: 'Media',
    description: 'A media file a customer sent (its id is in the message content). The run asks for an unknown id: 404.',
    ops: [
      { id: 'getMedia', params: { media_id: '{{mediaId}}' }, expect: [200, 404] },
      { id: 'uploadMedia', query: { filename: 'nota.txt' }, body: 'Olá! Este é o seu comprovante.' },
    ],
  },
  {
    folder: 'Chatbots',
    ops: [
      { id: 'createChatbot', body: GUIDE_CHATBOT, save: { chatbotId: 'j.id' } },
      { id: 'listChatbots' },
      { id: 'getChatbot', params: { id: '{{chatbotId}}' } },
      {
        id: 'updateChatbot',
        params: { id: '{{chatbotId}}' },
        body: {
          rules: [
            { match: { keywords: ['preço', 'valor'] }, reply: { type: 'text', text: 'Nossos planos começam em R$ 99.' } },
            { match: { keywords: ['atendente'] }, reply: { type: 'text', text: 'Um atendente vai falar com você.' }, handoff: true },
          ],
          fallback: { type: 'text', text: "Não entendi. Digite 'atendente' para falar com uma pessoa." },
        },
      },
      { id: 'deleteChatbot', params: { id: '{{chatbotId}}' } },
    ],
  },
  {
    folder: 'Webhooks',
    ops: [
      { id: 'listWebhookEvents' },
      {
        id: 'createWebhook',
        body: { name: 'Meu sistema', url: '{{webhookUrl}}', events: ['message.received', 'message.sent', 'message.delivered', 'message.read', 'message.failed'] },
        save: { webhookId: 'j.id', webhookSecret: 'j.secret' },
      },
      { id: 'listWebhooks' },
      { id: 'getWebhook', params: { id: '{{webhookId}}' } },
      { id: 'updateWebhook', params: { id: '{{webhookId}}' }, body: { events: ['message.received', 'contact.created'] } },
      { id: 'testWebhook', params: { id: '{{webhookId}}' }, save: { deliveryId: 'j.delivery.id' } },
      { id: 'listWebhookDeliveries', params: { id: '{{webhookId}}' } },
      { id: 'retryWebhookDelivery', params: { id: '{{webhookId}}', delivery_id: '{{deliveryId}}' } },
      { id: 'rotateWebhookSecret', params: { id: '{{webhookId}}' } },
      { id: 'deleteWebhook', params: { id: '{{webhookId}}' } },
    ],
  },
  {
    folder: 'API keys',
    ops: [
      { id: 'createAPIKey', body: { name: 'Postman', mode: 'test' }, save: { apiKeyId: 'j.id' } },
      { id: 'listAPIKeys' },
      { id: 'getAPIKey', params: { id: '{{apiKeyId}}' } },
      { id: 'revokeAPIKey', params: { id: '{{apiKeyId}}' } },
    ],
  },
  {
    folder: 'Integrations',
    ops: [
      {
        id: 'putShopifyIntegration',
        body: {
          shop_domain: 'minha-loja-{{runId}}.myshopify.com',
          webhook_secret: 'shpss_{{runId}}_client_secret',
          topics: {
            'orders/create': {
              enabled: true,
              message: {
                type: 'template',
                template: { name: 'order_confirmation', language: { code: 'pt_BR' }, parameters: ['{{order_number}}', '{{total_price}} {{currency}}'] },
              },
            },
            'orders/fulfilled': { enabled: true },
          },
          contact: { tags: ['customer', 'purchased'] },
        },
      },
      { id: 'getShopifyIntegration' },
      { id: 'deleteShopifyIntegration' },
      {
        id: 'putWooCommerceIntegration',
        body: {
          site_url: 'https://loja-{{runId}}.example.com',
          webhook_secret: 'woo_{{runId}}_secret',
          statuses: { completed: { enabled: true, message: { type: 'text', text: 'Seu pedido #{{number}} foi concluído!' } } },
        },
      },
      { id: 'getWooCommerceIntegration' },
      { id: 'deleteWooCommerceIntegration' },
      {
        id: 'putHubSpotIntegration',
        body: { portal_id: '{{runNumber}}', access_token: 'pat-na1-{{runId}}-token', client_secret: 'hubspot-{{runId}}-client-secret' },
      },
      { id: 'getHubSpotIntegration' },
      { id: 'deleteHubSpotIntegration' },
      {
        id: 'putSalesforceIntegration',
        body: {
          login_url: 'https://empresa-{{runId}}.my.salesforce.com',
          client_id: '3MVG9{{runId}}',
          client_secret: 'salesforce-{{runId}}-consumer-secret',
          lead: { company: 'Unknown', status: 'Open - Not Contacted', lead_source: 'WhatsApp' },
        },
      },
      { id: 'getSalesforceIntegration' },
      { id: 'deleteSalesforceIntegration' },
    ],
  },
  {
    folder: 'Zapier',
    description: 'The REST hooks the Zapier app uses.',
    ops: [
      { id: 'subscribeZapierHook', body: { hookUrl: '{{webhookUrl}}', event: 'message.received' }, save: { hookId: 'j.id' } },
      { id: 'listZapierHookSamples', params: { event: 'message.received' } },
      { id: 'unsubscribeZapierHook', params: { id: '{{hookId}}' } },
    ],
  },
  {
    folder: 'Templates',
    description: "The WABA's message templates (the settings need waba_id). Created at Meta (PENDING until Meta's review), synced, read and deleted. Last: after a sync, template sends and shop settings naming a template are checked against PyTake's copy.",
    ops: [
      {
        id: 'createTemplate',
        body: {
          name: 'postman_{{runId}}',
          language: 'pt_BR',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Olá! Seu pedido {{1}} foi confirmado.', example: { body_text: [['1001']] } }],
        },
        save: { templateName: 'j.name' },
      },
      { id: 'syncTemplates' },
      { id: 'listTemplates', query: { limit: '100' } },
      { id: 'getTemplate', params: { name: '{{templateName}}' } },
      { id: 'deleteTemplate', params: { name: '{{templateName}}' } },
    ],
  },
];

// Order-template placeholders of the integrations ({{order_number}}) are the
// API's, not Postman variables: Postman leaves unknown {{...}} as they are.

const ENV_VALUES = [
  ['baseUrl', 'http://127.0.0.1:3000/v1', 'default', 'PYTAKE_API_URL of .local/demo.env'],
  ['apiKey', '', 'secret', 'PYTAKE_API_KEY of .local/demo.env (or a key of a test organisation)'],
  ['recipient', '+5511999999999', 'default', 'who the Messages folder writes to'],
  ['phoneNumberId', '', 'default', 'WhatsApp phone number id (Settings folder)'],
  ['wabaId', '', 'default', 'WhatsApp Business Account id (Settings folder; templates belong to it)'],
  ['whatsappAccessToken', '', 'secret', 'Meta access token (Settings folder)'],
  ['whatsappAppSecret', '', 'secret', 'Meta app secret (Settings folder)'],
  ['whatsappVerifyToken', '', 'secret', 'webhook verify token (Settings folder)'],
  ['webhookUrl', 'https://seu-sistema.com/api/webhook', 'default', 'where webhooks and Zapier hooks deliver'],
  ['mediaId', '0000000000000000', 'default', 'a received media id (Media folder)'],
];

function load() {
  return JSON.parse(fs.readFileSync(DOC, 'utf8'));
}

function operations(doc) {
  const out = new Map();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) {
        out.set(op.operationId, { method: method.toUpperCase(), path: p, op });
      }
    }
  }
  return out;
}

// inline resolves $refs into one self-contained JSON Schema and drops the
// annotations Postman's validator does not need.
function inline(doc, schema, seen = []) {
  if (Array.isArray(schema)) return schema.map((s) => inline(doc, s, seen));
  if (!schema || typeof schema !== 'object') return schema;
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop();
    if (seen.includes(name)) return {};
    return inline(doc, doc.components.schemas[name], [...seen, name]);
  }
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (['description', 'examples', 'example', 'format', 'title', 'default'].includes(k)) continue;
    if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, inline(doc, pv, seen)]));
    } else {
      out[k] = inline(doc, v, seen);
    }
  }
  return out;
}

function response(doc, r) {
  if (r && r.$ref) return doc.components.responses[r.$ref.split('/').pop()];
  return r;
}

function testScript(doc, op, step) {
  const statuses = step.expect || Object.keys(op.responses).filter((c) => c.startsWith('2')).map(Number);
  const lines = [`pm.test("status is ${statuses.join(' or ')}", function () {`, `    pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(statuses)});`, '});'];
  const schemas = {};
  for (const code of statuses) {
    const r = response(doc, op.responses[String(code)]);
    const json = r && r.content && r.content['application/json'];
    if (json) schemas[code] = inline(doc, json.schema);
    else schemas[code] = null;
  }
  lines.push(`var schemas = ${JSON.stringify(schemas)};`);
  lines.push('var schema = schemas[pm.response.code];');
  lines.push('if (schema) {');
  lines.push('    pm.test("body matches the OpenAPI schema", function () {');
  lines.push('        pm.response.to.have.jsonSchema(schema);');
  lines.push('    });');
  lines.push('} else if (schema === null) {');
  lines.push('    pm.test("body is not JSON", function () {');
  lines.push('        pm.expect(pm.response.headers.get("Content-Type") || "").not.to.include("application/json");');
  lines.push('    });');
  lines.push('}');
  if (step.save) {
    lines.push('if (pm.response.code < 300) {');
    lines.push('    var j = pm.response.json();');
    for (const [name, expr] of Object.entries(step.save)) {
      lines.push(`    pm.collectionVariables.set(${JSON.stringify(name)}, ${expr});`);
    }
    lines.push('}');
  }
  return lines;
}

function request(doc, ops, step) {
  const entry = ops.get(step.id);
  if (!entry) throw new Error(`FLOW names ${step.id}, which internal/api/openapi.json does not have`);
  const { method, path: p, op } = entry;
  const segments = p.replace(/^\/v1\/?/, '').split('/').filter(Boolean).map((s) => s.replace(/^\{(.+)\}$/, ':$1'));
  const pathParams = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const name of pathParams) {
    if (!step.params || !(name in step.params)) throw new Error(`${step.id}: FLOW gives no value for the path parameter ${name}`);
  }
  const params = (op.parameters || []).map((x) => (x.$ref ? doc.components.parameters[x.$ref.split('/').pop()] : x));
  const query = params
    .filter((x) => x.in === 'query')
    .map((x) => {
      const given = step.query && step.query[x.name];
      return { key: x.name, value: given || '', description: x.description || '', disabled: !given };
    });
  for (const k of Object.keys(step.query || {})) {
    if (!params.some((x) => x.in === 'query' && x.name === k)) throw new Error(`${step.id}: ${k} is not a documented query parameter`);
  }
  const qs = query.filter((q) => !q.disabled).map((q) => `${q.key}=${q.value}`).join('&');
  const url = {
    raw: '{{baseUrl}}/' + segments.join('/') + (qs ? '?' + qs : ''),
    host: ['{{baseUrl}}'],
    path: segments,
  };
  if (query.length) url.query = query;
  if (pathParams.length) {
    url.variable = pathParams.map((name) => {
      const d = params.find((x) => x.in === 'path' && x.name === name);
      return { key: name, value: step.params[name], description: (d && d.description) || '' };
    });
  }
  const header = Object.entries(step.headers || {}).map(([key, value]) => ({ key, value }));
  const req = { method, header, url, description: [op.summary, op.description].filter(Boolean).join('\n\n') };
  if (op.requestBody) {
    const media = Object.keys(op.requestBody.content)[0];
    if (step.body !== undefined) {
      header.push({ key: 'Content-Type', value: media });
      req.body =
        typeof step.body === 'string'
          ? { mode: 'raw', raw: step.body, options: { raw: { language: 'text' } } }
          : { mode: 'raw', raw: JSON.stringify(step.body, null, 2), options: { raw: { language: 'json' } } };
    } else if (op.requestBody.required) {
      throw new Error(`${step.id}: FLOW gives no example body`);
    }
  } else if (step.body !== undefined) {
    throw new Error(`${step.id}: the operation takes no body`);
  }
  if (op.security && op.security.length === 0) req.auth = { type: 'noauth' };
  return {
    name: op.summary || step.id,
    event: [{ listen: 'test', script: { type: 'text/javascript', exec: testScript(doc, op, step) } }],
    request: req,
    response: [],
  };
}

function collection(doc) {
  const ops = operations(doc);
  const seen = new Set();
  for (const f of FLOW) {
    for (const s of f.ops) {
      if (seen.has(s.id)) throw new Error(`FLOW names ${s.id} twice`);
      seen.add(s.id);
    }
  }
  const missing = [...ops.keys()].filter((id) => !seen.has(id));
  if (missing.length) {
    throw new Error(`operations of internal/api/openapi.json missing from the collection (add them to FLOW in infra/postman/generate.js): ${missing.join(', ')}`);
  }
  return {
    info: {
      name: doc.info.title,
      description: `${doc.info.summary}\n\nGenerated from internal/api/openapi.json (version ${doc.info.version}) by infra/postman/generate.js: do not edit by hand.\n\nSet the collection (or environment) variables baseUrl and apiKey. Running the whole collection changes the organisation (WhatsApp settings, integrations) and deletes what it creates: run it against a test organisation.`,
      schema: POSTMAN_SCHEMA,
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{apiKey}}', type: 'string' }] },
    event: [
      {
        listen: 'prerequest',
        script: {
          type: 'text/javascript',
          exec: [
            "if (!pm.collectionVariables.get('runId')) {",
            "    pm.collectionVariables.set('runId', Date.now().toString(36));",
            "    pm.collectionVariables.set('runNumber', Date.now().toString());",
            '}',
            "pm.collectionVariables.set('campaignSendAt', new Date(Date.now() + 86400000).toISOString().replace(/\\.\\d+Z$/, 'Z'));",
          ],
        },
      },
    ],
    variable: [
      { key: 'baseUrl', value: 'https://api.pytake.com/v1', type: 'string' },
      { key: 'apiKey', value: '', type: 'string' },
    ],
    item: FLOW.map((f) => ({
      name: f.folder,
      description: f.description || '',
      item: f.ops.map((s) => request(doc, ops, s)),
    })),
  };
}

function environment() {
  return {
    name: 'PyTake local (make run)',
    values: ENV_VALUES.map(([key, value, type]) => ({ key, value, type, enabled: true })),
    _postman_variable_scope: 'environment',
  };
}

function render(v) {
  return JSON.stringify(v, null, 2) + '\n';
}

function main() {
  const doc = load();
  const files = [
    [COLLECTION, render(collection(doc))],
    [ENVIRONMENT, render(environment())],
  ];
  if (process.argv.includes('--check')) {
    const stale = files.filter(([f, text]) => !fs.existsSync(f) || fs.readFileSync(f, 'utf8') !== text).map(([f]) => path.basename(f));
    if (stale.length) {
      console.error(`stale: ${stale.join(', ')} (run: cd infra/postman && npm run generate)`);
      process.exit(1);
    }
    return;
  }
  for (const [f, text] of files) fs.writeFileSync(f, text);
}

module.exports = { FLOW, collection, environment, operations, load };

if (require.main === module) main();
