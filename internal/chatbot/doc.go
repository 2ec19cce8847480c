// Package chatbot holds PyTake's keyword chatbots, with no I/O:
//
//   - ParseCreate and ParsePatch read the bodies of POST and PATCH
//     /v1/chatbots. Every problem is reported at once as a 422 whose details
//     name the JSON path (rules[2].reply.buttons[0].title); a body that is
//     not a JSON object is a 400. Unknown and duplicate fields are rejected,
//     JSON null counts as absent (except where PATCH gives it a meaning).
//   - Decide says what a bot does with one inbound customer message: the
//     welcome message, a rule's reply and/or a hand-off to a person, the
//     fallback, or nothing.
//   - Fold is the text normalisation keyword matching uses.
//   - Reply.Request builds the message a reply sends (outbound's
//     constructors, checked as POST /v1/messages checks a request).
//
// A chatbot is an ordered list of rules. A rule matches on keywords (whole
// words or phrases, ignoring case, accents and punctuation), on the id of a
// button or list row the customer tapped, or on anything. Replies are text,
// up to three reply buttons, or an approved template; template replies are
// checked with internal/outbound's rules and kept in its canonical form, so
// what is stored is exactly what is sent.
package chatbot
