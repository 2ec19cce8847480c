package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

// Issue 13 review: an opt-in racing an edit of the contact (between the
// opt-in's read and its write) committed a contact.updated carrying the
// contact as it was before the edit, stamped later than the edit's own
// event: a subscriber keeping the latest (a CRM) put the old name back.
// The opt-in now writes only over the version it read, and reads again.
func TestOptInEventIsTheContactAsStored(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	ct, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511900000011", Name: "Old"}, nil)
	require.NoError(t, err)
	c.Add(time.Second)

	h := &hookDB{DB: tbl.Client, match: "ORG#" + org.ID, after: func() {
		edit, err := s.Contact(ctx, org.ID, ct.ID)
		require.NoError(t, err)
		edit.Name = "New"
		_, err = s.SaveContact(ctx, edit, event.ContactEmit("contact.updated", c.Now))
		require.NoError(t, err)
		c.Add(time.Second)
	}}
	stream := storetest.NewStream(h)
	racing := store.New(stream, tbl.Name, c.Now)
	got, err := racing.OptInContact(ctx, org.ID, ct.ID, event.ContactEmit("contact.updated", c.Now))
	require.NoError(t, err)
	require.Equal(t, "New", got.Name, "the opt-in answers the contact as stored")
	stored, err := s.Contact(ctx, org.ID, ct.ID)
	require.NoError(t, err)
	require.Equal(t, "New", stored.Name)
	obs, err := stream.Outboxes(0)
	require.NoError(t, err)
	require.Len(t, obs, 1)
	var ev event.Event
	require.NoError(t, json.Unmarshal(obs[0].Events[0], &ev))
	b, err := json.Marshal(ev.Data)
	require.NoError(t, err)
	require.Contains(t, string(b), `"name":"New"`, "the event is the contact as stored: %s", b)
}

// The bulk lane is written with the accepted message's job (the relay
// queues it on the bulk queue), and a transactional message's is not.
func TestAcceptedJobKeepsTheBulkLane(t *testing.T) {
	s, c, tbl := newStore(t)
	stream := storetest.NewStream(tbl.Client)
	s = store.New(stream, tbl.Name, c.Now)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	for _, bulk := range []bool{true, false} {
		m := textOut(org.ID, "5511900000012")
		m.FreeForm, m.Type, m.Bulk = false, "template", bulk
		from := len(stream.Records(0))
		res, err := s.AcceptOutbound(ctx, m)
		require.NoError(t, err)
		obs, err := stream.Outboxes(from)
		require.NoError(t, err)
		require.Len(t, obs, 1)
		require.NotNil(t, obs[0].Job)
		require.Equal(t, res.Message.ID, obs[0].Job.MessageID)
		require.Equal(t, bulk, obs[0].Job.Bulk)
		require.Equal(t, org.ID, obs[0].Job.OrgID)
		require.Equal(t, res.Message.ContactID, obs[0].Job.ContactID)
	}
}
