package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// graphStub answers like the Graph API for one media id.
func graphStub(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	// The tenant-isolation test's numbers, as Meta would confirm them.
	meta := metaStub{
		phones: map[string][]string{"200000000000001": {"EAAG-b-token-0001", "EAAG-a-token-0001"}},
		wabas:  map[string][]string{"300000000000001": {"200000000000001"}, "300000000000002": {"200000000000001"}},
		tokens: map[string]bool{"EAAG-b-token-0001": true, "EAAG-a-token-0001": true},
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/phone_numbers") || r.URL.Query().Has("fields") {
			meta.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer EAAG-a" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`)
			return
		}
		switch r.URL.Path {
		case "/v26.0/1479537139650973":
			_ = json.NewEncoder(w).Encode(map[string]any{"url": srv.URL + "/download/abc", "mime_type": "image/jpeg", "id": "1479537139650973"})
		case "/download/abc":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write([]byte{0xff, 0xd8, 0xff, 0xe0})
		default:
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"error":{"message":"Unsupported get request","type":"GraphMethodException","code":100}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMessagesAndMediaAreScopedToTheCaller(t *testing.T) {
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, keyA, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, keyB, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	in, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: "5511999999999"}, WAMID: "wamid.M1", Type: "image",
		Timestamp: now(), Content: json.RawMessage(`{"media_id":"1479537139650973"}`), Raw: json.RawMessage(`{"id":"wamid.M1"}`), MediaID: "1479537139650973", MediaMime: "image/jpeg"})
	require.NoError(t, err)
	g := graphStub(t)
	sec := secretstest.New()
	sec.Set(a.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{AccessToken: "EAAG-a"})
	sec.Set(b.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{AccessToken: "EAAG-b"})
	srv := api.New(api.Deps{Store: st, Secrets: sec,
		Graph: graph.New(g.URL, g.Client()), GraphVersion: "v26.0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	f := &fixture{t: t, router: srv.Router()}

	tests := []struct {
		name, key, path string
		status          int
		has             string
	}{
		{"own message", keyA, "/v1/messages/" + in.Message.ID, 200, `"wamid":"wamid.M1"`},
		{"other org's message", keyB, "/v1/messages/" + in.Message.ID, 404, "not_found"},
		{"own conversation", keyA, "/v1/conversations/" + in.Conversation.ID + "/messages?limit=10", 200, in.Message.ID},
		{"other org's conversation", keyB, "/v1/conversations/" + in.Conversation.ID + "/messages", 404, "not_found"},
		{"bad limit", keyA, "/v1/conversations/" + in.Conversation.ID + "/messages?limit=0", 422, `"field":"limit"`},
		{"bad cursor", keyA, "/v1/conversations/" + in.Conversation.ID + "/messages?cursor=zzz", 422, "invalid_cursor"},
		{"other org's media", keyB, "/v1/media/1479537139650973", 404, "not_found"},
		{"unknown media", keyA, "/v1/media/42", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, query, _ := strings.Cut(tt.path, "?")
			ev := event("GET", path, "Bearer "+tt.key, "")
			ev.RawQueryString = query
			resp, _ := f.do(ev)
			require.Equal(t, tt.status, resp.StatusCode, "%d %s", resp.StatusCode, resp.Body)
			require.Contains(t, resp.Body, tt.has, "%d %s", resp.StatusCode, resp.Body)
		})
	}

	resp, err := f.router.Serve(ctx, event("GET", "/v1/media/1479537139650973", "Bearer "+keyA, ""))
	require.NoError(t, err, "media: %d %v %+v", resp.StatusCode, err, resp.Headers)
	require.Equal(t, 200, resp.StatusCode, "media")
	require.True(t, resp.IsBase64Encoded, "media")
	require.Equal(t, "image/jpeg", resp.Headers["Content-Type"], "media")
	if b, _ := base64.StdEncoding.DecodeString(resp.Body); len(b) != 4 || b[0] != 0xff {
		t.Fatalf("media bytes: %v", b)
	}
	// Meta's bytes are the customer's: a browser must not sniff them into
	// HTML or script, nor render them inline on our origin.
	if resp.Headers["X-Content-Type-Options"] != "nosniff" || resp.Headers["Content-Disposition"] != `attachment; filename="1479537139650973.jpg"` {
		t.Fatalf("media headers: %+v", resp.Headers)
	}
}
