'use strict';

const zapier = require('zapier-platform-core');
const { App } = require('./helpers');
const { validate } = require('../scripts/validate');
const pkg = require('../package.json');

describe('app definition', () => {
  it('takes its versions from package.json and zapier-platform-core', () => {
    expect(App.version).toBe(pkg.version);
    expect(App.platformVersion).toBe(zapier.version);
    expect(pkg.dependencies['zapier-platform-core']).toBe(zapier.version);
  });

  it('has the documented triggers, actions and search', () => {
    expect(Object.keys(App.triggers).sort()).toEqual([
      'conversation_resolved',
      'new_contact',
      'new_message',
    ]);
    expect(Object.keys(App.creates).sort()).toEqual(['add_tag', 'create_contact', 'send_message']);
    expect(Object.keys(App.searches)).toEqual(['find_contact']);
  });

  it('passes zapier-platform-schema validation', async () => {
    expect(await validate()).toEqual([]);
  });
});
