package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func TestTemplateSyncAndWebhooks(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	org := "org_1"
	if at, err := st.TemplatesSyncedAt(ctx, org); err != nil || at != nil {
		t.Fatalf("never synced: %v %v", at, err)
	}
	comps := json.RawMessage(`[{"type":"BODY","text":"Olá {{1}}!"}]`)
	list := []store.Template{
		{ID: "1", Name: "order", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED", Components: comps},
		{ID: "2", Name: "order", Language: "en_US", Category: "UTILITY", Status: "PENDING", Components: comps},
		{ID: "3", Name: "promo", Language: "pt_BR", Category: "MARKETING", Status: "REJECTED", Components: comps},
	}
	changes, err := st.SyncTemplates(ctx, org, list)
	if err != nil || len(changes) != 3 {
		t.Fatalf("first sync: %d changes, %v", len(changes), err)
	}
	if at, err := st.TemplatesSyncedAt(ctx, org); err != nil || at == nil {
		t.Fatalf("synced: %v %v", at, err)
	}
	// The same list again changes nothing; a status change and a removal do.
	if changes, err = st.SyncTemplates(ctx, org, list); err != nil || len(changes) != 0 {
		t.Fatalf("same list: %+v %v", changes, err)
	}
	list[1].Status = "APPROVED"
	changes, err = st.SyncTemplates(ctx, org, list[:2])
	if err != nil || len(changes) != 2 {
		t.Fatalf("second sync: %+v %v", changes, err)
	}
	for _, c := range changes {
		switch c.Template.ID {
		case "2":
			if c.PreviousStatus != "PENDING" || c.Template.Status != "APPROVED" || c.Removed {
				t.Fatalf("status change: %+v", c)
			}
		case "3":
			if !c.Removed {
				t.Fatalf("removal: %+v", c)
			}
		default:
			t.Fatalf("unexpected change %+v", c)
		}
	}
	if _, err := st.Template(ctx, org, "promo", "pt_BR"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("removed template: %v", err)
	}
	named, err := st.TemplatesNamed(ctx, org, "order")
	if err != nil || len(named) != 2 {
		t.Fatalf("languages of order: %+v %v", named, err)
	}
	// Another organisation sees none of them.
	if p, err := st.Templates(ctx, "org_2", store.TemplateFilter{}, "", 10); err != nil || len(p.Items) != 0 {
		t.Fatalf("other org: %+v %v", p, err)
	}
	p, err := st.Templates(ctx, org, store.TemplateFilter{Language: "en_US"}, "", 10)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != "2" {
		t.Fatalf("filter by language: %+v %v", p, err)
	}

	// A status webhook: changed once, then a redelivery changes nothing.
	u := store.TemplateUpdate{ID: "1", Name: "order", Language: "pt_BR", Status: "PAUSED"}
	tpl, prev, changed, err := st.UpdateTemplate(ctx, org, u)
	if err != nil || !changed || prev != "APPROVED" || tpl.Status != "PAUSED" || string(tpl.Components) != string(comps) {
		t.Fatalf("webhook: %+v %q %v %v", tpl, prev, changed, err)
	}
	if _, _, changed, err = st.UpdateTemplate(ctx, org, u); err != nil || changed {
		t.Fatalf("redelivery: %v %v", changed, err)
	}
	// A quality update names only the id.
	tpl, _, changed, err = st.UpdateTemplate(ctx, org, store.TemplateUpdate{ID: "1", Quality: "YELLOW"})
	if err != nil || !changed || tpl.Quality != "YELLOW" || tpl.Name != "order" {
		t.Fatalf("quality by id: %+v %v %v", tpl, changed, err)
	}
	// A template the copy does not know is recorded without components.
	tpl, prev, changed, err = st.UpdateTemplate(ctx, org, store.TemplateUpdate{ID: "9", Name: "fresh", Language: "es", Status: "APPROVED", Category: "UTILITY"})
	if err != nil || !changed || prev != "" || tpl.Components != nil {
		t.Fatalf("new from webhook: %+v %v %v", tpl, changed, err)
	}
	if _, _, _, err = st.UpdateTemplate(ctx, org, store.TemplateUpdate{ID: "404", Quality: "RED"}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if err := st.DeleteTemplates(ctx, org, "order", ""); err != nil {
		t.Fatal(err)
	}
	if named, _ := st.TemplatesNamed(ctx, org, "order"); len(named) != 0 {
		t.Fatalf("after delete: %+v", named)
	}
}

func TestWhatsAppSignals(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	if _, err := st.UpdateWhatsAppSignals(ctx, "org_none", store.WhatsAppSignals{QualityRating: "RED"}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no connection: %v", err)
	}
	org, _ := st.CreateOrganization(ctx, "Acme")
	if _, err := st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1001", VerifyTokenHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateWhatsAppSignals(ctx, org.ID, store.WhatsAppSignals{QualityRating: "YELLOW", MessagingLimitTier: "TIER_2K"}); err != nil {
		t.Fatal(err)
	}
	a, err := st.UpdateWhatsAppSignals(ctx, org.ID, store.WhatsAppSignals{ThroughputLevel: "HIGH"})
	if err != nil || a.Signals.QualityRating != "YELLOW" || a.Signals.MessagingLimitTier != "TIER_2K" || a.Signals.ThroughputLevel != "HIGH" || a.Signals.UpdatedAt == nil {
		t.Fatalf("signals: %+v %v", a.Signals, err)
	}
}

func TestWhatsAppAccountsAreListed(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	var orgs []string
	for i := range 3 {
		org, err := st.CreateOrganization(ctx, "Org")
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, org.ID)
		if _, err := st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "100" + string(rune('0'+i)),
			WABAID: "200" + string(rune('0'+i)), VerifyTokenHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for {
		p, err := st.WhatsAppAccounts(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Items {
			seen[a.OrgID] = a.WABAID != ""
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	for _, o := range orgs {
		if !seen[o] {
			t.Fatalf("%s not listed: %v", o, seen)
		}
	}
}
