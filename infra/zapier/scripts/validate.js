'use strict';

/**
 * Offline schema validation of the app definition: runs
 * zapier-platform-core's own `validate` command (the local half of
 * `zapier validate`; no network, no Zapier login).
 */
const { createAppHandler } = require('zapier-platform-core');
const App = require('..');

const validate = async () => {
  const handler = createAppHandler(App);
  const { results } = await handler({ command: 'validate', calledFromCli: true });
  return results;
};

if (require.main === module) {
  validate().then(
    (errors) => {
      if (errors.length) {
        console.error(`${errors.length} schema error(s):`);
        for (const e of errors) console.error(`- ${e.property}: ${e.message}`);
        process.exit(1);
      }
      console.log('App definition is valid against zapier-platform-schema.');
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { validate };
