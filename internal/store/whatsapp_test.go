package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func TestRemoveWhatsAppAccountOnlyRemovesWhatItWrote(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	org, err := st.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	a := store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1001", WABAID: "2001", VerifyTokenHash: "h1"}
	b := store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1002", WABAID: "2002", VerifyTokenHash: "h2"}
	for _, acct := range []store.WhatsAppAccount{a, b} {
		if _, err := st.PutWhatsAppAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	// a was replaced by b meanwhile: removing a is refused and b stays whole.
	if err := st.RemoveWhatsAppAccount(ctx, a); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("remove a stale account: %v", err)
	}
	if got, err := st.OrgByPhoneNumberID(ctx, b.PhoneNumberID); err != nil || got != org.ID {
		t.Fatalf("b's number: %q %v", got, err)
	}
	if err := st.RemoveWhatsAppAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WhatsAppAccount(ctx, org.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("account after removal: %v", err)
	}
	for name, lookup := range map[string]func() (string, error){
		"phone":  func() (string, error) { return st.OrgByPhoneNumberID(ctx, b.PhoneNumberID) },
		"waba":   func() (string, error) { return st.OrgByWABAID(ctx, b.WABAID) },
		"verify": func() (string, error) { return st.OrgByVerifyTokenHash(ctx, b.VerifyTokenHash) },
	} {
		if _, err := lookup(); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s claim after removal: %v", name, err)
		}
	}
}
