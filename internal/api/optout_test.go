package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// The opt-out settings: the defaults until set, replaced by PUT, checked;
// a MARKETING template to an opted-out contact is 422 contact_opted_out
// through POST /v1/messages; POST /v1/contacts/{id}/opt-in lifts it.
func TestOptOutSettingsAndConsent(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + f.key
	ctx := context.Background()

	resp, body := f.do(event("GET", "/v1/settings/opt-out", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, []any{"STOP", "PARAR", "SAIR", "CANCELAR", "DESCADASTRAR"}, body["keywords"])
	assert.Equal(t, true, body["default"])
	assert.Nil(t, body["confirmation"])

	resp, body = f.do(event("PUT", "/v1/settings/opt-out", auth, `{"keywords":["PARAR","Stop"],"confirmation":"Você não receberá mais ofertas."}`))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, []any{"PARAR", "Stop"}, body["keywords"])
	assert.Equal(t, "Você não receberá mais ofertas.", body["confirmation"])
	assert.Equal(t, false, body["default"])
	resp, body = f.do(event("GET", "/v1/settings/opt-out", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, []any{"PARAR", "Stop"}, body["keywords"])

	resp, body = f.do(event("PUT", "/v1/settings/opt-out", auth, `{"keywords":["parar","PARAR!"]}`))
	require.Equal(t, 422, resp.StatusCode, resp.Body)
	assert.Equal(t, "keywords[1]", body["error"].(map[string]any)["details"].([]any)[0].(map[string]any)["field"])

	// A contact who wrote, opted out; a marketing template to it is refused.
	in, err := f.store.RecordInbound(ctx, store.InboundMessage{OrgID: f.org.ID, From: store.Identity{WaID: "5511999990001"},
		WAMID: "wamid.O1", Type: "text", Timestamp: time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC),
		Content: json.RawMessage(`{"text":"parar"}`), Raw: json.RawMessage(`{}`)})
	require.NoError(t, err)
	_, err = f.store.SyncTemplates(ctx, f.org.ID, []store.Template{{ID: "1", Name: "promo", Language: "pt_BR", Category: "MARKETING",
		Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Oferta!"}]`)}})
	require.NoError(t, err)
	_, _, err = f.store.OptOutContact(ctx, f.org.ID, in.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR", MessageID: in.Message.ID})
	require.NoError(t, err)
	resp, body = f.do(event("GET", "/v1/contacts/"+in.Contact.ID, auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, true, body["opted_out"])
	assert.Equal(t, "keyword", body["opt_out"].(map[string]any)["reason"])
	assert.Equal(t, "PARAR", body["opt_out"].(map[string]any)["keyword"])

	promo := `{"to":"+5511999990001","type":"template","template":{"name":"promo","language":{"code":"pt_BR"}}}`
	resp, body = f.do(event("POST", "/v1/messages", auth, promo))
	require.Equal(t, 422, resp.StatusCode, resp.Body)
	assert.Equal(t, "contact_opted_out", body["error"].(map[string]any)["code"])
	resp, _ = f.do(event("POST", "/v1/messages", auth, `{"to":"+5511999990001","text":"Combinado, sem ofertas."}`))
	require.Equal(t, 202, resp.StatusCode, "a service reply in the window: %s", resp.Body)

	resp, body = f.do(event("POST", "/v1/contacts/"+in.Contact.ID+"/opt-in", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, false, body["opted_out"])
	assert.NotEmpty(t, body["opted_in_at"])
	resp, _ = f.do(event("POST", "/v1/messages", auth, promo))
	require.Equal(t, 202, resp.StatusCode, "after the consent: %s", resp.Body)
	resp, _ = f.do(event("POST", "/v1/contacts/"+in.Contact.ID+"/opt-in", auth, `{"x":1}`))
	require.Equal(t, 422, resp.StatusCode, "an unknown field: %s", resp.Body)
	resp, _ = f.do(event("POST", "/v1/contacts/ct_nope/opt-in", auth, ""))
	require.Equal(t, 404, resp.StatusCode, resp.Body)
}
