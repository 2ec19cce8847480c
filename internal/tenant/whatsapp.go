package tenant

import (
	"context"
	"fmt"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/lazyre"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

// WhatsAppStore is where the WhatsApp account is kept.
type WhatsAppStore interface {
	WhatsAppAccount(ctx context.Context, orgID string) (store.WhatsAppAccount, error)
	PutWhatsAppAccount(ctx context.Context, a store.WhatsAppAccount) (store.WhatsAppAccount, error)
	RemoveWhatsAppAccount(ctx context.Context, a store.WhatsAppAccount) error
}

var _ WhatsAppStore = (*store.Store)(nil)

// SecretWriter writes secrets.
type SecretWriter interface {
	Put(ctx context.Context, orgID, provider string, v any) error
}

var (
	digits  = lazyre.New(`^[0-9]{5,32}$`)
	version = lazyre.New(`^v[0-9]{1,3}\.[0-9]$`)
	// token: Meta's access tokens are printable ASCII without spaces; a
	// control character could never go in an Authorization header.
	token = lazyre.New(`^[!-~]+$`)
)

// ValidateWhatsApp checks credentials, naming each bad field.
func ValidateWhatsApp(c secrets.WhatsApp) error {
	var details []apperr.Detail
	bad := func(field, issue string) { details = append(details, apperr.Detail{Field: field, Issue: issue}) }
	if !digits().MatchString(c.PhoneNumberID) {
		bad("phone_number_id", "must be Meta's numeric phone number id")
	}
	if !token().MatchString(c.AccessToken) || len(c.AccessToken) > 4096 {
		bad("access_token", "is required: 1 to 4096 printable ASCII characters, no spaces")
	}
	if len(c.AppSecret) < 8 || len(c.AppSecret) > 256 {
		bad("app_secret", "is required (8 to 256 characters)")
	}
	if len(c.VerifyToken) < 8 || len(c.VerifyToken) > 256 {
		bad("verify_token", "is required (8 to 256 characters)")
	}
	if c.WABAID != "" && !digits().MatchString(c.WABAID) {
		bad("waba_id", "must be numeric")
	}
	if c.GraphAPIVersion != "" && !version().MatchString(c.GraphAPIVersion) {
		bad("graph_api_version", "must look like v26.0")
	}
	if len(details) > 0 {
		return apperr.New(apperr.Unprocessable, "WhatsApp settings are invalid").WithDetails(details...)
	}
	return nil
}

// ConfigureWhatsApp connects an organisation's WhatsApp number. display is
// the number as Meta showed it (ProveWhatsApp), kept for the organisation's
// default country.
//
// The claims (phone number id, WABA id, verify token: one transaction, so a
// number another organisation holds costs nothing) are written before the
// secret; if the secret then cannot be written, the claims are put back as
// they were (the previous account re-saved, or a first connection removed),
// so a failure never leaves an account pointing at credentials that were not
// stored.
func ConfigureWhatsApp(ctx context.Context, st WhatsAppStore, sec SecretWriter, orgID string, c secrets.WhatsApp, display string) (store.WhatsAppAccount, error) {
	if err := ValidateWhatsApp(c); err != nil {
		return store.WhatsAppAccount{}, err
	}
	prev, err := st.WhatsAppAccount(ctx, orgID)
	had := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return store.WhatsAppAccount{}, err
	}
	acct, err := st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{
		OrgID: orgID, PhoneNumberID: c.PhoneNumberID, WABAID: c.WABAID, GraphAPIVersion: c.GraphAPIVersion,
		VerifyTokenHash: whatsapp.HashVerifyToken(c.VerifyToken), DisplayPhoneNumber: display,
	})
	if err != nil {
		return store.WhatsAppAccount{}, err
	}
	if err := sec.Put(ctx, orgID, secrets.ProviderWhatsApp, c); err != nil {
		var undo error
		if had {
			_, undo = st.PutWhatsAppAccount(ctx, prev)
		} else {
			undo = st.RemoveWhatsAppAccount(ctx, acct)
		}
		if undo != nil {
			return store.WhatsAppAccount{}, fmt.Errorf("tenant: %w (and the claims could not be put back: %v)", err, undo)
		}
		return store.WhatsAppAccount{}, err
	}
	return acct, nil
}
