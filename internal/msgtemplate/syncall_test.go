package msgtemplate_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// The scheduled sync: every connection with a WABA is synced; one whose
// token Meta refuses fails alone; one without a WABA is skipped.
func TestSyncAll(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	sec := secretstest.New()
	sim := graphsim.New(graphsim.Config{Accounts: []graphsim.Account{
		{PhoneNumberID: "1001", WABAID: "2001", AccessToken: "tok-1", AppSecret: "a", ThroughputLevel: "HIGH"},
		{PhoneNumberID: "1002", WABAID: "2002", AccessToken: "tok-2", AppSecret: "b"},
	}})
	t.Cleanup(sim.Close)
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	sim.AddTemplate(graphsim.Template{WABAID: "2001", Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY",
		Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Pedido {{1}}."}]`)})
	connect := func(phone, waba, token string) string {
		org, err := st.CreateOrganization(ctx, "Org "+phone)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: phone, WABAID: waba, VerifyTokenHash: "h" + phone}); err != nil {
			t.Fatal(err)
		}
		sec.Set(org.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: phone, WABAID: waba, AccessToken: token})
		return org.ID
	}
	good := connect("1001", "2001", "tok-1")
	connect("1002", "2002", "revoked-token")
	connect("1003", "", "tok-3")
	rec := &eventtest.Recorder{}
	res, err := msgtemplate.SyncAll(ctx, msgtemplate.Fleet{Accounts: st, Credentials: sec, Graph: graph.New(hs.URL, hs.Client()),
		Store: st, Events: rec, Version: "v26.0", Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Numbers: graph.New(hs.URL, hs.Client()), Signals: st})
	if err != nil {
		t.Fatal(err)
	}
	if res != (msgtemplate.FleetResult{Synced: 1, Skipped: 1, Failed: 1}) {
		t.Fatalf("result %+v", res)
	}
	if tpl, err := st.Template(ctx, good, "order_confirmation", "pt_BR"); err != nil || tpl.Status != "APPROVED" {
		t.Fatalf("synced copy: %+v %v", tpl, err)
	}
	if evs := rec.Named(event.TemplateStatusUpdated); len(evs) != 1 || evs[0].OrganizationID != good {
		t.Fatalf("events: %+v", evs)
	}
	// The number's throughput level, as Meta reports it, is recorded: the
	// sender's limit follows it.
	if a, err := st.WhatsAppAccount(ctx, good); err != nil || a.Signals.ThroughputLevel != "HIGH" {
		t.Fatalf("throughput level: %+v %v", a.Signals, err)
	}
}
