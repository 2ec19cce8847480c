package store_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
)

// TestForgedCursorsAreInvalid: a cursor is client input. One edited to
// start outside its list (a sort key the list's prefix does not cover, or
// key attributes the list's table or index does not have) is 422
// invalid_cursor, not a query DynamoDB refuses (a 5xx) or obeys.
func TestForgedCursorsAreInvalid(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	for _, n := range []string{"a", "b", "c"} {
		_, _, err := s.IssueKey(ctx, org.ID, n, apikey.Live)
		require.NoError(t, err)
	}
	page, err := s.Keys(ctx, org.ID, "", 1)
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	raw, err := base64.RawURLEncoding.DecodeString(page.NextCursor)
	require.NoError(t, err)
	var real map[string]string
	require.NoError(t, json.Unmarshal(raw, &real))

	forge := func(edit func(map[string]string)) string {
		m := map[string]string{}
		for k, v := range real {
			m[k] = v
		}
		edit(m)
		b, _ := json.Marshal(m)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, cursor := range map[string]string{
		"sort key of another list": forge(func(m map[string]string) { m["sk"] = "CONTACT#ct_zzz" }),
		"sort key before the list": forge(func(m map[string]string) { m["sk"] = "A" }),
		"no sort key":              forge(func(m map[string]string) { delete(m, "sk") }),
		"an index's attributes":    forge(func(m map[string]string) { m["gsi1pk"], m["gsi1sk"] = m["pk"], "x" }),
	} {
		got, err := s.Keys(ctx, org.ID, cursor, 1)
		if e, ok := apperr.As(err); !ok || e.Code != "invalid_cursor" {
			t.Errorf("%s: %d items, %v", name, len(got.Items), err)
		}
	}
	// The real cursor still works.
	next, err := s.Keys(ctx, org.ID, page.NextCursor, 1)
	require.NoError(t, err)
	require.Len(t, next.Items, 1)
}
