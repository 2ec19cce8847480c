package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// tplCountingStore is the store, counting its reads of the organisations'
// template copies (ORG#<org>#TPL).
type tplCountingStore struct {
	*store.Store
	mu    sync.Mutex
	reads map[string]int // by organisation
}

func (s *tplCountingStore) count(org string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[org]++
}

func (s *tplCountingStore) TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error) {
	s.count(org)
	return s.Store.TemplatesSyncedAt(ctx, org)
}

func (s *tplCountingStore) Template(ctx context.Context, org, name, language string) (store.Template, error) {
	s.count(org)
	return s.Store.Template(ctx, org, name, language)
}

func (s *tplCountingStore) readsOf(org string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[org]
}

// A template send reads the organisation's copy of its templates once a
// msgtemplate.CacheTTL per container, not once per send; a template found not
// sendable is read again at every send (approved: sendable at once); a
// paused one is accepted until the TTL runs out (Meta refuses it: the
// documented consequence), refused after; one organisation's kept
// template is never another's.
func TestTemplateSendCache(t *testing.T) {
	tbl := storetest.New(t)
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	st := &tplCountingStore{Store: store.New(tbl.Client, tbl.Name, clock), reads: map[string]int{}}
	ctx := context.Background()
	a, err := st.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	b, err := st.CreateOrganization(ctx, "B")
	require.NoError(t, err)
	_, keyA, err := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	require.NoError(t, err)
	_, keyB, err := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	require.NoError(t, err)
	srv := api.New(api.Deps{Store: st, Sending: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock})
	f := &fixture{t: t, router: srv.Router()}
	sync := func(org, status, components string) {
		t.Helper()
		_, err := st.SyncTemplates(ctx, org, []store.Template{{ID: "1" + org, Name: "promo", Language: "pt_BR", Category: "UTILITY",
			Status: status, Components: json.RawMessage(components)}})
		require.NoError(t, err)
	}
	send := func(key, to string, want int, code string) {
		t.Helper()
		resp, body := f.do(event("POST", "/v1/messages", "Bearer "+key,
			`{"to":"`+to+`","type":"template","template":{"name":"promo","language":{"code":"pt_BR"}}}`))
		require.Equal(t, want, resp.StatusCode, resp.Body)
		if code != "" {
			require.Equal(t, code, body["error"].(map[string]any)["code"], resp.Body)
		}
	}
	noParams := `[{"type":"BODY","text":"Oi, oferta!"}]`

	// Not sendable: read at every send; approved: accepted at once.
	sync(a.ID, "PAUSED", noParams)
	send(keyA, "5511900000001", 422, "template_not_approved")
	before := st.readsOf(a.ID)
	send(keyA, "5511900000001", 422, "template_not_approved")
	require.Equal(t, 1, st.readsOf(a.ID)-before, "a paused template is read again (the sync time is kept)")
	sync(a.ID, "APPROVED", noParams)
	send(keyA, "5511900000001", 202, "")

	// Sendable: kept for the TTL.
	before = st.readsOf(a.ID)
	for range 5 {
		send(keyA, "5511900000002", 202, "")
	}
	require.Zero(t, st.readsOf(a.ID)-before, "5 sends within the TTL read the copy again")
	advance(msgtemplate.CacheTTL)
	send(keyA, "5511900000002", 202, "")
	require.Equal(t, 2, st.readsOf(a.ID)-before, "after the TTL: the sync time and the template, once")

	// Paused within the TTL: still accepted (Meta refuses it) until the
	// TTL runs out.
	sync(a.ID, "PAUSED", noParams)
	send(keyA, "5511900000003", 202, "")
	advance(msgtemplate.CacheTTL)
	send(keyA, "5511900000003", 422, "template_not_approved")
	sync(a.ID, "APPROVED", noParams)
	send(keyA, "5511900000003", 202, "")

	// B, with no promo/pt_BR of its own, is refused it while A's is kept;
	// with its own (a parameter A's has not), B's own is checked.
	_, err = st.SyncTemplates(ctx, b.ID, []store.Template{{ID: "9", Name: "other", Language: "pt_BR", Category: "UTILITY",
		Status: "APPROVED", Components: json.RawMessage(noParams)}})
	require.NoError(t, err)
	send(keyB, "5511900000004", 422, "template_not_found")
	send(keyB, "5511900000004", 422, "template_not_found")
	advance(msgtemplate.CacheTTL)
	sync(b.ID, "APPROVED", `[{"type":"BODY","text":"Oi {{1}}"}]`)
	send(keyA, "5511900000005", 202, "")
	send(keyB, "5511900000005", 422, "template_parameter_mismatch")
	send(keyA, "5511900000005", 202, "")
}
