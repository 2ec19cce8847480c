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

// TestMarkWhatsAppVerified: the handshake's record is written at most once
// an hour, kept by a save with the same verify token, dropped by a save
// with another, never written for a token no longer saved, and never
// creates an account.
func TestMarkWhatsAppVerified(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st := store.New(tb.Client, tb.Name, func() time.Time { return now })
	org, err := st.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkWhatsAppVerified(ctx, org.ID, "h1"); err != nil {
		t.Fatalf("no account: %v", err)
	}
	if _, err := st.WhatsAppAccount(ctx, org.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("marking created an account: %v", err)
	}
	a := store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1001", VerifyTokenHash: "h1"}
	if _, err := st.PutWhatsAppAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	verifiedAt := func() *time.Time {
		t.Helper()
		got, err := st.WhatsAppAccount(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.VerifiedAt
	}
	if v := verifiedAt(); v != nil {
		t.Fatalf("verified before any handshake: %v", v)
	}
	first := now
	for i, step := range []struct {
		after time.Duration
		want  time.Time
	}{
		{0, first},                // the first handshake
		{30 * time.Minute, first}, // within the hour: nothing written
		{31 * time.Minute, first.Add(61 * time.Minute)}, // over an hour after it: written again
	} {
		now = now.Add(step.after)
		if err := st.MarkWhatsAppVerified(ctx, org.ID, "h1"); err != nil {
			t.Fatal(err)
		}
		if v := verifiedAt(); v == nil || !v.Equal(step.want) {
			t.Fatalf("step %d: verified_at %v, want %v", i, v, step.want)
		}
	}
	a.PhoneNumberID = "1002" // same token: Meta's subscription still holds
	if _, err := st.PutWhatsAppAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if verifiedAt() == nil {
		t.Fatal("a save with the same verify token dropped the record")
	}
	a.VerifyTokenHash = "h2"
	if _, err := st.PutWhatsAppAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if v := verifiedAt(); v != nil {
		t.Fatalf("a new verify token kept the old record: %v", v)
	}
	// A handshake that matched the old token, recorded after the new one was
	// saved (the two raced): the new token has not been verified by Meta.
	now = now.Add(2 * time.Hour)
	if err := st.MarkWhatsAppVerified(ctx, org.ID, "h1"); err != nil {
		t.Fatal(err)
	}
	if v := verifiedAt(); v != nil {
		t.Fatalf("a handshake with the old token marked the new one verified: %v", v)
	}
	if err := st.MarkWhatsAppVerified(ctx, org.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	if v := verifiedAt(); v == nil || !v.Equal(now) {
		t.Fatalf("the new token's handshake: verified_at %v, want %v", v, now)
	}
}
