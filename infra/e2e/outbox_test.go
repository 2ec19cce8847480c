//go:build e2e

package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A contact created through the API reaches a subscriber as
// contact.created once: the API writes the event as an outbox item of the
// contact's transaction, the table's stream carries it to the outbox relay
// (the local stack polls moto's stream as Lambda's event source mapping
// does, with the template's filter), which publishes it to the events
// topic; the dispatcher delivers it.
func TestContactCreatedReachesSubscriberThroughTheOutbox(t *testing.T) {
	sub := newSubscriber(t)
	subscribe(t, sub, "contact.created")
	r := do(t, "POST", "/v1/contacts", demo.APIKey.Key, []byte(`{"whatsapp_id":"+5511966660077","name":"Outbox"}`))
	require.Equal(t, 201, r.Status, "create: %d %s", r.Status, r.Body)
	var c struct{ ID string }
	r.json(t, &c)
	got := sub.wait(t, 1, 60*time.Second)
	require.NoError(t, got[0].verified)
	var ev struct {
		ID    string `json:"id"`
		Event string `json:"event"`
		Data  struct {
			Contact struct{ ID, Name string } `json:"contact"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &ev), "%s", got[0].body)
	require.Equal(t, "contact.created", ev.Event)
	require.Equal(t, c.ID, ev.Data.Contact.ID)
	require.Equal(t, "Outbox", ev.Data.Contact.Name)
	// Nothing else arrives for it (the relay publishes it once; a
	// redelivery would carry the same id).
	time.Sleep(3 * time.Second)
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for _, g := range sub.got {
		require.Equal(t, got[0].header.Get("webhook-id"), g.header.Get("webhook-id"), "a second contact.created: %s", g.body)
	}
}
