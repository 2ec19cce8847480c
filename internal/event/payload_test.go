package event

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// A message event's contact says when its copy left the tags and
// attributes out (contact.partial); a whole one says nothing.
func TestMessageEventPartialContact(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	m := store.Message{ID: "msg_1", ConversationID: "cv_1", Direction: store.Outbound, Type: "text", Timestamp: at}
	cv := store.Conversation{ID: "cv_1", ContactID: "ct_1", Status: store.ConversationResolved}
	for _, tc := range []struct {
		name    string
		partial bool
	}{{"whole", false}, {"partial", true}} {
		ct := store.Contact{ID: "ct_1", WhatsAppID: "5511900000001", CreatedAt: at, Partial: tc.partial}
		ev, err := MessageEvent(MessageDelivered, "org_1", "wamid.1", at, m, ct, cv)
		require.NoError(t, err, tc.name)
		var body struct {
			Data struct {
				Contact      map[string]any `json:"contact"`
				Conversation map[string]any `json:"conversation"`
			} `json:"data"`
		}
		b, err := json.Marshal(ev)
		require.NoError(t, err, tc.name)
		require.NoError(t, json.Unmarshal(b, &body), tc.name)
		p, ok := body.Data.Contact["partial"]
		require.Equal(t, tc.partial, ok, "%s: %s", tc.name, b)
		if ok {
			require.Equal(t, true, p, tc.name)
		}
		require.Equal(t, map[string]any{}, body.Data.Contact["attributes"], tc.name)
		require.Equal(t, "resolved", body.Data.Conversation["status"], tc.name)
	}
}
