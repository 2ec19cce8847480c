package delivery_test

import (
	"fmt"
	"time"

	"github.com/pytake/pytake/internal/delivery"
)

// The test vector quoted in the README: one event signed with one secret.
func ExampleHeaders() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body, err := delivery.CanonicalBody([]byte(`{
	  "id": "evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D",
	  "event": "message.received",
	  "timestamp": "2025-10-03T16:30:00Z",
	  "organization_id": "org_01K6NYQ2M4P6R8T0V2X4Z6B8D0",
	  "data": {"message": {"id": "msg_01K6NZ3F8Q", "type": "text", "content": {"text": "Olá \u003c3"}}}
	}`))
	if err != nil {
		panic(err)
	}
	at := time.Date(2025, 10, 3, 16, 30, 0, 0, time.UTC)
	h := delivery.Headers("evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", at, body, []string{secret})

	fmt.Println(string(body))
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "X-PyTake-Signature"} {
		fmt.Printf("%s: %s\n", name, h.Get(name))
	}
	// Output:
	// {"id":"evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D","event":"message.received","timestamp":"2025-10-03T16:30:00Z","organization_id":"org_01K6NYQ2M4P6R8T0V2X4Z6B8D0","data":{"message":{"id":"msg_01K6NZ3F8Q","type":"text","content":{"text":"Olá <3"}}}}
	// webhook-id: evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D
	// webhook-timestamp: 1759509000
	// webhook-signature: v1,YmtOi3/QinsrQ+anQrjjIc3FPW6elWoZZfAXSR0i0No=
	// X-PyTake-Signature: sha256=3fc5bf983150beca3ba7de79ae90446a2c0a8553f07cba5e7024807deee35c55
}

// An integrator's receiver checks the Standard Webhooks signature on the
// raw body, before parsing it.
func ExampleVerify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"id":"evt_1","event":"contact.created"}`)
	sent := time.Unix(1759509000, 0)
	h := delivery.Headers("evt_1", sent, body, []string{secret})

	fmt.Println(delivery.Verify(secret, h, body, sent.Add(time.Minute), 0))
	fmt.Println(delivery.Verify(secret, h, body, sent.Add(time.Hour), 0))
	fmt.Println(delivery.VerifyPyTake(secret, h.Get("X-PyTake-Signature"), body))
	// Output:
	// <nil>
	// delivery: webhook timestamp outside the tolerance: 1759509000 is 1h0m0s old, tolerance 5m0s
	// <nil>
}

// Go's encoding/json escapes <, >, & and U+2028; JSON.stringify does not,
// and the guide's Node.js snippet signs JSON.stringify(req.body).
func ExampleCanonicalBody() {
	out, err := delivery.CanonicalBody([]byte(`{"b": 1.0, "a": "\u003cb\u003e", "10": [1e2, 1E-7], "2": null}`))
	fmt.Println(string(out), err)
	// Output:
	// {"2":null,"10":[100,1e-7],"b":1,"a":"<b>"} <nil>
}
