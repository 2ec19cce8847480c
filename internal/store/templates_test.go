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

// A sync whose writes fail records nothing as synced (the copy's checks
// stay off, or keep the last complete sync's time).
func TestTemplateSyncFailureIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	list := make([]store.Template, 40)
	for i := range list {
		list[i] = store.Template{ID: "id", Name: "t" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Language: "en", Status: "APPROVED"}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.SyncTemplates(cctx, "org_1", list); err == nil {
		t.Fatal("a sync with a cancelled context succeeded")
	}
	if at, err := st.TemplatesSyncedAt(ctx, "org_1"); err != nil || at != nil {
		t.Fatalf("recorded as synced: %v %v", at, err)
	}
	changes, err := st.SyncTemplates(ctx, "org_1", list)
	if err != nil || len(changes) != 40 {
		t.Fatalf("sync: %d %v", len(changes), err)
	}
	p, err := st.Templates(ctx, "org_1", store.TemplateFilter{}, "", 100)
	if err != nil || len(p.Items) != 40 {
		t.Fatalf("copy: %d %v", len(p.Items), err)
	}
}

// Meta's review webhook can arrive before the creation's answer is
// recorded: the webhook's status stays, the components are added.
func TestCreatedTemplateAfterItsWebhook(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	if _, _, _, err := st.UpdateTemplate(ctx, "org_1", store.TemplateUpdate{ID: "77", Name: "fast", Language: "en", Status: "APPROVED"}); err != nil {
		t.Fatal(err)
	}
	comps := json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}!"}]`)
	if err := st.RecordCreatedTemplate(ctx, store.Template{OrgID: "org_1", ID: "77", Name: "fast", Language: "en", Category: "UTILITY",
		Status: "PENDING", Components: comps, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tpl, err := st.Template(ctx, "org_1", "fast", "en")
	if err != nil || tpl.Status != "APPROVED" || string(tpl.Components) != string(comps) || tpl.Category != "UTILITY" {
		t.Fatalf("template: %+v %v", tpl, err)
	}
	// Without a webhook first, the creation is recorded as it is.
	if err := st.RecordCreatedTemplate(ctx, store.Template{OrgID: "org_1", ID: "78", Name: "slow", Language: "en", Status: "PENDING",
		Components: comps, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if tpl, _ := st.Template(ctx, "org_1", "slow", "en"); tpl.Status != "PENDING" {
		t.Fatalf("slow: %+v", tpl)
	}
}

// A template deleted from the copy (DELETE /v1/templates) is not brought
// back by Meta's DELETED status webhook arriving after: the update is
// reported (its event is due) but nothing is written.
func TestDeletedTemplateNotResurrected(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	comps := json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}!"}]`)
	if _, err := st.SyncTemplates(ctx, "org_1", []store.Template{{ID: "9", Name: "gone", Language: "en", Category: "UTILITY", Status: "APPROVED", Components: comps}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteTemplates(ctx, "org_1", "gone", ""); err != nil {
		t.Fatal(err)
	}
	tpl, _, changed, err := st.UpdateTemplate(ctx, "org_1", store.TemplateUpdate{ID: "9", Name: "gone", Language: "en", Status: "DELETED"})
	if err != nil || !changed || tpl.Status != "DELETED" || tpl.Name != "gone" {
		t.Fatalf("update: %+v %v %v", tpl, changed, err)
	}
	if got, err := st.Template(ctx, "org_1", "gone", "en"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("deleted template back in the copy: %+v %v", got, err)
	}
}

// A status webhook that lands while a sync is writing Meta's list (read
// before the webhook) is not overwritten by the list's older status, and
// the sync does not report the older status as a change.
func TestSyncDoesNotOverwriteNewerWebhook(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	var (
		st    *store.Store
		armed bool
		ticks time.Duration
	)
	start := time.Now()
	clock := func() time.Time {
		ticks += time.Second // every write at its own time
		if armed {
			armed = false
			// Meta's APPROVED webhook, after the sync read the copy.
			if _, _, _, err := st.UpdateTemplate(ctx, "org_1", store.TemplateUpdate{ID: "5", Name: "race", Language: "en", Status: "APPROVED"}); err != nil {
				t.Errorf("webhook: %v", err)
			}
		}
		return start.Add(ticks)
	}
	st = store.New(tb.Client, tb.Name, clock)
	created := store.Template{ID: "5", Name: "race", Language: "en", Category: "UTILITY", Status: "PENDING",
		Components: json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}!"}]`)}
	if _, err := st.SyncTemplates(ctx, "org_1", []store.Template{created}); err != nil {
		t.Fatal(err)
	}
	// Meta's list, fetched before the webhook: still PENDING, its
	// components written as Meta lists them.
	listed := created
	listed.Components = json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}!","example":{"body_text":[["Ana"]]}}]`)
	armed = true
	changes, err := st.SyncTemplates(ctx, "org_1", []store.Template{listed})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Template.Status == "PENDING" {
			t.Errorf("the sync reported the older status: %+v", c)
		}
	}
	if tpl, err := st.Template(ctx, "org_1", "race", "en"); err != nil || tpl.Status != "APPROVED" {
		t.Fatalf("the webhook's APPROVED was overwritten: %+v %v", tpl, err)
	}
}
