'use strict';

const { apiUrl } = require('../lib/api');
const { contactSample, contactOutputFields } = require('../lib/contact');

/** Pages of 100 contacts read looking for an email (20 pages: 2,000 contacts). */
const MAX_EMAIL_PAGES = 20;

/**
 * GET /contacts?whatsapp_id= (an exact lookup) or ?email= (filtered within
 * each page: follows next_cursor until a match, MAX_EMAIL_PAGES pages at
 * most, then an error rather than a guessed "none"). Both given: the contact
 * with that number, if its email matches too. Zapier takes the first
 * result; none found makes "find or create" run Create Contact.
 */
const perform = async (z, bundle) => {
  const whatsappId = String(bundle.inputData.whatsapp_id || '').trim();
  const email = String(bundle.inputData.email || '').trim();
  if (!whatsappId && !email) {
    throw new z.errors.Error('Give a WhatsApp number or an email to search by.', 'InvalidInput', 400);
  }
  const params = { limit: 100 };
  if (whatsappId) params.whatsapp_id = whatsappId;
  if (email) params.email = email;
  const found = [];
  let cursor = '';
  for (let page = 0; page < (whatsappId ? 1 : MAX_EMAIL_PAGES); page++) {
    const response = await z.request({
      url: `${apiUrl(bundle)}/contacts`,
      params: cursor ? { ...params, cursor } : params,
    });
    const { data, next_cursor: next } = response.data || {};
    if (!Array.isArray(data)) {
      throw new z.errors.Error('PyTake returned no contact list.', 'InvalidResponse');
    }
    found.push(...data);
    if (found.length || !next) return found;
    cursor = next;
  }
  if (whatsappId) return found;
  // More pages than we read: "not found" would be a guess, and
  // find-or-create would create a second contact with this email.
  throw new z.errors.Error(
    `Searched the first ${(MAX_EMAIL_PAGES * 100).toLocaleString('en-US')} contacts without finding this email and ` +
      'without reaching the last: search by WhatsApp number instead (an exact lookup).',
    'SearchIncomplete',
    400,
  );
};

module.exports = {
  key: 'find_contact',
  noun: 'Contact',
  display: {
    label: 'Find Contact',
    description: 'Finds a contact by WhatsApp number or email (use with Create Contact to find or create).',
  },
  operation: {
    inputFields: [
      {
        key: 'whatsapp_id',
        label: 'WhatsApp Number',
        required: false,
        helpText: 'Phone number with country code, in any common format, e.g. `+5511999999999`.',
      },
      {
        key: 'email',
        label: 'Email',
        required: false,
        helpText: 'The contact\'s email address (case is ignored). Give this, the number, or both.',
      },
    ],
    perform,
    sample: contactSample,
    outputFields: contactOutputFields,
  },
};
