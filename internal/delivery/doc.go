// Package delivery holds the parts of outbound webhook delivery that touch
// no AWS service, for the dispatcher that POSTs events to integrators' URLs:
//
//   - Signing (sign.go): NewSecret, ParseSecret, FormatSecret, SigningKey
//     (whsec_ secrets and secrets the integrator chose), Headers, and
//     the receiver side, Verify and VerifyPyTake. Every request carries the
//     Standard Webhooks 1.0 headers (webhook-id, webhook-timestamp,
//     webhook-signature) and the legacy X-PyTake-Signature that the
//     integrations guide's Python and Node.js snippets check.
//   - The body (body.go): CanonicalBody and MarshalBody produce the exact
//     bytes to sign and send, in the form JavaScript's JSON.stringify gives
//     back, because the guide's Node.js snippet signs JSON.stringify(req.body)
//     rather than the raw bytes.
//   - SSRF guard (ssrf.go): Blocked, CheckURL (at subscription time) and
//     NewClient, an HTTP client that checks every address it actually dials,
//     follows no redirects and uses no proxy.
//   - Retries (retry.go): Classify, the Svix schedule (Schedule, NextDelay),
//     ParseRetryAfter and RetryAfter, and Excerpt for the delivery log.
//
// A delivery, end to end:
//
//	body, err := delivery.CanonicalBody(eventJSON)     // once per event
//	h := delivery.Headers(evt.ID, now, body, secrets)   // per attempt: fresh timestamp
//	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
//	req.Header = h
//	resp, err := client.Do(req)                         // client from NewClient
//	switch delivery.Classify(status, err) { ... }
package delivery
