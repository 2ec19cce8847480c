package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// routeWrites counts the writes on route items.
type routeWrites struct {
	store.DB
	mu sync.Mutex
	n  int
}

func (r *routeWrites) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if pk, ok := in.Key["pk"].(*types.AttributeValueMemberS); ok && strings.Contains(pk.Value, "#ROUTE#") {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
	}
	return r.DB.UpdateItem(ctx, in, o...)
}

// A contact's route names the previous message only when the lane
// changes; a repeat (the relay retrying) answers the first route, whatever
// lane it asks for now; another contact is independent. A transactional
// message after a transactional one (or none) writes nothing; an overflow
// after unrecorded transactional messages waits for the latest of them
// (found in the contact's outbox), not the first; a campaign's message in
// between is not one of them.
func TestRouteOutbound(t *testing.T) {
	tbl, c := newTable(t)
	db := &routeWrites{DB: tbl.Client}
	s := store.New(db, tbl.Name, c.Now)
	ctx := context.Background()
	msgs := map[string]string{}
	// accept is the accept path's outbox item of a message (its job).
	accept := func(name, contact string, campaign bool) {
		c.Add(3 * time.Millisecond)
		m := id.New("msg", c.Now())
		msgs[name] = m
		require.NoError(t, s.WriteOutbox(ctx, store.Outbox{OrgID: "org_a", ContactID: contact,
			Job: &store.OutboxJob{OrgID: "org_a", ContactID: contact, MessageID: m, Bulk: campaign}}))
	}
	for _, tc := range []struct {
		name, contact, msg string
		bulk               bool
		after              string // the name of the message it waits for
		writes             int
	}{
		{"first message, transactional", "ct_1", "m1", false, "", 0},
		{"same lane", "ct_1", "m2", false, "", 0},
		{"overflow: after the latest transactional one", "ct_1", "m3", true, "m2", 1},
		{"relay retry asks another lane: the first answer", "ct_1", "m3", false, "m2", 0},
		{"still bulk", "ct_1", "m4", true, "", 1},
		{"back to transactional: after the bulk one", "ct_1", "m5", false, "m4", 1},
		{"transactional again: nothing written", "ct_1", "m6", false, "", 0},
		{"and again", "ct_1", "m7", false, "", 0},
		{"overflow after a transactional run: its latest, not its first", "ct_1", "m9", true, "m7", 1},
		{"another contact", "ct_2", "m10", true, "", 1},
	} {
		if _, ok := msgs[tc.msg]; !ok {
			if tc.msg == "m9" {
				accept("m8", "ct_1", true) // a campaign's message: not in the lanes' order
			}
			accept(tc.msg, tc.contact, false)
		}
		before := db.n
		got, err := s.RouteOutbound(ctx, "org_a", tc.contact, msgs[tc.msg], tc.bulk)
		require.NoError(t, err, tc.name)
		want := store.Route{Bulk: tc.bulk}
		if tc.msg == "m3" {
			want.Bulk = true
		}
		if tc.after != "" {
			want.After = msgs[tc.after]
		}
		require.Equal(t, want, got, tc.name)
		require.Equal(t, tc.writes, db.n-before, "%s: route writes", tc.name)
	}
	got, err := s.RouteOutbound(ctx, "org_a", "ct_1", id.New("msg", time.Unix(1, 0)), true)
	require.NoError(t, err)
	require.Equal(t, store.Route{Bulk: true}, got, "an older message requeued never waits for a newer one")
	_, err = s.RouteOutbound(ctx, "org_a", "", "msg_07", false)
	require.Error(t, err)
}

// Two invocations routing the same contact at once (a shard handed over
// mid-batch): the write is conditioned on the route each read, so one
// reads again and both answers agree with the item.
func TestRouteOutboundRace(t *testing.T) {
	tbl := storetest.New(t)
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	s := store.New(tbl.Client, tbl.Name, c.Now)
	ctx := context.Background()
	var ids []string
	for range 2 {
		c.Add(time.Millisecond)
		m := id.New("msg", c.Now())
		ids = append(ids, m)
		require.NoError(t, s.WriteOutbox(ctx, store.Outbox{OrgID: "org_a", ContactID: "ct_1",
			Job: &store.OutboxJob{OrgID: "org_a", ContactID: "ct_1", MessageID: m}}))
	}
	var wg sync.WaitGroup
	routes := make([]store.Route, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.RouteOutbound(ctx, "org_a", "ct_1", ids[i], true)
			require.NoError(t, err)
			routes[i] = r
		}()
	}
	wg.Wait()
	out, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#org_a#ROUTE#ct_1"}, "sk": &types.AttributeValueMemberS{Value: "ROUTE"}}})
	require.NoError(t, err)
	require.NotEmpty(t, out.Item)
	require.True(t, routes[0].Bulk && routes[1].Bulk)
}
