package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// Issue 13 review: a contact within the API's limits (50 attributes of 1024
// characters) whose contact.* event is more than the events topic takes
// (256 KiB; '<' is escaped to six bytes in JSON) was committed with its
// outbox item: the relay could never publish it, retried it, blocked the
// stream shard (other contacts', other organisations' events and outbound
// jobs) and finally handed it to the on-failure destination: the event was
// lost. The change is refused instead (413), nothing written.
func TestOutboxRefusesAnEventTheTopicCannotCarry(t *testing.T) {
	s, c, tbl := newStore(t)
	stream := storetest.NewStream(tbl.Client)
	s = store.New(stream, tbl.Name, c.Now)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	attrs := map[string]any{}
	for i := 0; i < 50; i++ {
		attrs[strings.Repeat("k", 60)+string(rune('A'+i%26))+string(rune('a'+i/26))] = strings.Repeat("<", 1024)
	}
	from := len(stream.Records(0))
	_, err = s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511900000009", Name: "Big", Attributes: attrs},
		event.ContactEmit("contact.created", c.Now))
	require.True(t, apperr.Is(err, apperr.TooLarge), "want 413, got %v", err)
	page, err := s.Contacts(ctx, org.ID, "", "5511900000009", "", 10)
	require.NoError(t, err)
	require.Empty(t, page.Items, "nothing written")
	obs, err := stream.Outboxes(from)
	require.NoError(t, err)
	require.Empty(t, obs, "no outbox item")

	// Within the limit: created, and its event fits one publish.
	small, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511900000010", Name: "Small", Attributes: map[string]any{"a": "<b>"}},
		event.ContactEmit("contact.created", c.Now))
	require.NoError(t, err)
	obs, err = stream.Outboxes(from)
	require.NoError(t, err)
	require.Len(t, obs, 1)
	require.Less(t, len(obs[0].Events[0]), queue.MaxPublishBytes)
	require.Contains(t, string(obs[0].Events[0]), small.ID)
}
