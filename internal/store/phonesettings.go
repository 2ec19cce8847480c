package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/phone"
)

// Where an organisation's default country comes from.
const (
	CountryFromSettings = "settings"        // PUT /v1/settings/phone
	CountryFromWhatsApp = "whatsapp_number" // its WhatsApp number's calling code
)

// PhoneSettings is how an organisation's phone numbers written without a
// country code are read.
type PhoneSettings struct {
	// DefaultCountry completes national numbers (ISO 3166-1 alpha-2); ""
	// when the organisation has none, and such numbers are refused.
	DefaultCountry string
	Source         string // CountryFromSettings, CountryFromWhatsApp, or ""
	// Override is the country set in the settings ("" when none).
	Override string
	// WhatsAppCountry is the country of the connected WhatsApp number.
	WhatsAppCountry    string
	DisplayPhoneNumber string
}

type phoneSettingsItem struct {
	DefaultCountry string `dynamodbav:"default_country,omitempty"`
	DisplayPhone   string `dynamodbav:"display_phone_number,omitempty"`
}

// PhoneSettings reads the organisation's default country: the one set in
// its settings, else its WhatsApp number's (one BatchGetItem of the
// organisation and WhatsApp items).
func (s *Store) PhoneSettings(ctx context.Context, org string) (PhoneSettings, error) {
	orgKey, waKey := key{orgPK(org), orgSK()}, key{orgPK(org), whatsappSK()}
	got, err := s.batchGet(ctx, []key{orgKey, waKey})
	if err != nil {
		return PhoneSettings{}, err
	}
	if got[orgKey] == nil {
		return PhoneSettings{}, apperr.New(apperr.NotFound, "organization not found")
	}
	var o, w phoneSettingsItem
	if err := attributevalue.UnmarshalMap(got[orgKey], &o); err != nil {
		return PhoneSettings{}, fmt.Errorf("store: decode organization: %w", err)
	}
	if it := got[waKey]; it != nil {
		if err := attributevalue.UnmarshalMap(it, &w); err != nil {
			return PhoneSettings{}, fmt.Errorf("store: decode whatsapp account: %w", err)
		}
	}
	ps := PhoneSettings{Override: o.DefaultCountry, DisplayPhoneNumber: w.DisplayPhone}
	if w.DisplayPhone != "" {
		// Meta shows it formatted ("+55 11 5555-0000", or digits).
		if d, err := phone.ParseRecipient(w.DisplayPhone, ""); err == nil {
			ps.WhatsAppCountry = phone.CountryOf(d)
		}
	}
	switch {
	case ps.Override != "":
		ps.DefaultCountry, ps.Source = ps.Override, CountryFromSettings
	case ps.WhatsAppCountry != "":
		ps.DefaultCountry, ps.Source = ps.WhatsAppCountry, CountryFromWhatsApp
	}
	return ps, nil
}

// SetDefaultCountry sets (or, with "", removes) the organisation's default
// country override; the caller checks the code (phone.Country).
func (s *Store) SetDefaultCountry(ctx context.Context, org, country string) error {
	// "" is stored as such (no override), which every DynamoDB
	// implementation takes alike.
	values := map[string]types.AttributeValue{":c": str(strings.ToUpper(country))}
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(org), orgSK()}, "SET default_country = :c", "attribute_exists(pk)", values))
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "organization not found")
	}
	if err != nil {
		return unavailable("set default country", err)
	}
	return nil
}
