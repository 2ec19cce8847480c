package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/tenant"
	"github.com/pytake/pytake/internal/whatsapp"
)

// secretWriter records what was written and fails when told to.
type secretWriter struct {
	fail    bool
	written map[string]secrets.WhatsApp
}

func (w *secretWriter) Put(_ context.Context, org, provider string, v any) error {
	if w.fail {
		return apperr.New(apperr.Unavailable, "the secret store is unavailable, retry").WithCause(errors.New("injected"))
	}
	w.written[org+"/"+provider] = v.(secrets.WhatsApp)
	return nil
}

// TestConfigureWhatsAppLeavesNothingHalfDone: when the secret cannot be
// written, the number, WABA and verify token claims and the account are
// exactly as before (Meta's verification of its token included), for a
// first connection and for a change of number.
func TestConfigureWhatsAppLeavesNothingHalfDone(t *testing.T) {
	ctx := context.Background()
	first := secrets.WhatsApp{PhoneNumberID: "106540352242922", WABAID: "102290129340398", AccessToken: "EAAG", AppSecret: "0123456789abcdef", VerifyToken: "verify-me-123"}
	second := secrets.WhatsApp{PhoneNumberID: "106540352249999", WABAID: "102290129349999", AccessToken: "EAAH", AppSecret: "fedcba9876543210", VerifyToken: "verify-me-456"}
	type claims struct{ phone, waba, verify string }
	read := func(st *store.Store, c secrets.WhatsApp) claims {
		t.Helper()
		org := func(s string, err error) string {
			if apperr.Is(err, apperr.NotFound) {
				return ""
			}
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return claims{
			phone:  org(st.OrgByPhoneNumberID(ctx, c.PhoneNumberID)),
			waba:   org(st.OrgByWABAID(ctx, c.WABAID)),
			verify: org(st.OrgByVerifyTokenHash(ctx, whatsapp.HashVerifyToken(c.VerifyToken))),
		}
	}
	tests := []struct {
		name     string
		before   *secrets.WhatsApp // connected first (successfully)
		attempt  secrets.WhatsApp  // then this, with the secret write failing
		wantAcct string            // phone number id of the account afterwards ("" none)
	}{
		{"first connection", nil, first, ""},
		{"change of number", &first, second, first.PhoneNumberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := storetest.New(t)
			st := store.New(tb.Client, tb.Name, time.Now)
			org, err := st.CreateOrganization(ctx, "Acme")
			if err != nil {
				t.Fatal(err)
			}
			w := &secretWriter{written: map[string]secrets.WhatsApp{}}
			if tt.before != nil {
				if _, err := tenant.ConfigureWhatsApp(ctx, st, w, org.ID, *tt.before, "+55 11 5555-0000"); err != nil {
					t.Fatal(err)
				}
				// Meta has verified the callback with the token.
				if err := st.MarkWhatsAppVerified(ctx, org.ID, whatsapp.HashVerifyToken(tt.before.VerifyToken)); err != nil {
					t.Fatal(err)
				}
			}
			w.fail = true
			if _, err := tenant.ConfigureWhatsApp(ctx, st, w, org.ID, tt.attempt, "+55 11 5555-0000"); !apperr.Is(err, apperr.Unavailable) {
				t.Fatalf("err = %v, want the secret store's Unavailable", err)
			}
			if got := read(st, tt.attempt); got != (claims{}) {
				t.Errorf("the failed attempt left claims behind: %+v", got)
			}
			acct, err := st.WhatsAppAccount(ctx, org.ID)
			switch {
			case tt.wantAcct == "" && !apperr.Is(err, apperr.NotFound):
				t.Errorf("account after a failed first connection: %+v %v", acct, err)
			case tt.wantAcct != "" && (err != nil || acct.PhoneNumberID != tt.wantAcct):
				t.Errorf("account = %+v %v, want the previous number %s", acct, err, tt.wantAcct)
			}
			if tt.before != nil && acct.VerifiedAt == nil {
				t.Error("the account put back lost Meta's verification of its verify token")
			}
			if tt.before != nil {
				want := claims{org.ID, org.ID, org.ID}
				if got := read(st, *tt.before); got != want {
					t.Errorf("the previous claims were lost: %+v", got)
				}
			}
			// And the same settings go through once the secret store is back.
			w.fail = false
			if _, err := tenant.ConfigureWhatsApp(ctx, st, w, org.ID, tt.attempt, "+55 11 5555-0000"); err != nil {
				t.Fatal(err)
			}
			if got := read(st, tt.attempt); got != (claims{org.ID, org.ID, org.ID}) {
				t.Errorf("claims after the retry: %+v", got)
			}
		})
	}
}
