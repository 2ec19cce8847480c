// Package outbound holds what PyTake knows about the messages it sends
// through the WhatsApp Cloud API, with no I/O:
//
//   - Parse reads the body of POST /v1/messages (Meta's own shape, or the
//     shorthand {"to": ..., "text": "..."}), checks it against Meta's send
//     limits and returns a Request whose Content is a canonical JSON object
//     for the message type. Every problem is reported at once, each naming
//     its field with a dotted path (template.components[0].parameters[1].text).
//   - Text, Buttons, Template and BodyTemplate build the requests PyTake
//     sends on its own (chatbot replies, shop notifications), checked with
//     Parse's rules; Request.Body is a request as POST /v1/messages takes it.
//   - NormalizeTo reads a recipient: a phone number, a contact id or a
//     business-scoped user id (BSUID).
//   - MetaBody builds the exact body POSTed to /{version}/{phone_number_id}/messages.
//   - Classify and Backoff decide what the sender does with a failed send.
//
// Strictness: unknown fields are rejected at every level, with their path,
// rather than silently dropped, so a typo ("captoin") is a 422 and not a
// message sent without its caption. JSON null counts as an absent field.
// Duplicate keys in one object are rejected.
//
// Files: request.go (Parse, the request envelope, recipients), build.go
// (the constructors, Request.Body), limits.go
// (Meta's send limits), one file for each content type's parser (text.go,
// media.go, interactive.go, template.go, location.go, reaction.go), meta.go
// (MetaBody), retry.go (Classify, Backoff).
package outbound
