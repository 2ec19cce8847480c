package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// A contact's route names the previous message only when the lane
// changes; a repeat (the relay retrying) answers the first route, whatever
// lane it asks for now; another contact is independent.
func TestRouteOutbound(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, contact, msg string
		bulk               bool
		want               store.Route
	}{
		{"first message, transactional", "ct_1", "msg_01", false, store.Route{}},
		{"same lane", "ct_1", "msg_02", false, store.Route{}},
		{"overflow: after the transactional one", "ct_1", "msg_03", true, store.Route{Bulk: true, After: "msg_02"}},
		{"relay retry asks another lane: the first answer", "ct_1", "msg_03", false, store.Route{Bulk: true, After: "msg_02"}},
		{"still bulk", "ct_1", "msg_04", true, store.Route{Bulk: true}},
		{"back to transactional: after the bulk one", "ct_1", "msg_05", false, store.Route{After: "msg_04"}},
		{"another contact", "ct_2", "msg_06", true, store.Route{Bulk: true}},
		{"an older message requeued never waits for a newer one", "ct_1", "msg_00", true, store.Route{Bulk: true}},
	} {
		got, err := s.RouteOutbound(ctx, "org_a", tc.contact, tc.msg, tc.bulk)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
	_, err := s.RouteOutbound(ctx, "org_a", "", "msg_07", false)
	require.Error(t, err)
}
