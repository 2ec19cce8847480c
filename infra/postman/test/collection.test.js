'use strict';

// The collection and environment are in step with internal/api/openapi.json:
// every operation has a request, and the committed files are what
// generate.js makes.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const { collection, operations, load } = require('../generate.js');

const DIR = path.resolve(__dirname, '..');
const committed = JSON.parse(fs.readFileSync(path.join(DIR, 'pytake.postman_collection.json'), 'utf8'));

function requests(items, out = []) {
  for (const i of items) {
    if (i.item) requests(i.item, out);
    else out.push(i);
  }
  return out;
}

function signature(method, segments) {
  return method + ' /v1/' + segments.map((s) => s.replace(/^:(.+)$/, '{$1}')).join('/');
}

test('every operation of the OpenAPI document has a request', () => {
  const doc = load();
  const want = [...operations(doc).values()].map((o) => o.method + ' ' + o.path.replace(/\/$/, '')).sort();
  const got = requests(committed.item).map((r) => signature(r.request.method, r.request.url.path)).sort();
  assert.deepStrictEqual(got, want);
});

test('a request that is missing from FLOW fails generation', () => {
  const doc = load();
  doc.paths['/v1/new-thing'] = { get: { operationId: 'getNewThing', responses: { 200: { description: 'x' } } } };
  assert.throws(() => collection(doc), /missing from the collection.*getNewThing/);
});

test('every request checks its status code and, for JSON, its body', () => {
  for (const r of requests(committed.item)) {
    const script = r.event.find((e) => e.listen === 'test').script.exec.join('\n');
    assert.match(script, /pm\.response\.code\)\.to\.be\.oneOf/, r.name);
    assert.match(script, /jsonSchema\(schema\)/, r.name);
  }
});

test('the key is a collection variable sent as a Bearer token', () => {
  assert.deepStrictEqual(committed.auth, { type: 'bearer', bearer: [{ key: 'token', value: '{{apiKey}}', type: 'string' }] });
  assert.ok(committed.variable.some((v) => v.key === 'apiKey'));
  assert.ok(committed.variable.some((v) => v.key === 'baseUrl' && v.value === 'https://api.pytake.com/v1'));
});

test('the committed files are what generate.js makes', () => {
  execFileSync(process.execPath, [path.join(DIR, 'generate.js'), '--check'], { stdio: 'pipe' });
});
