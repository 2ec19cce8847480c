package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/phone"
	"github.com/pytake/pytake/internal/store"
)

// PhoneSettingsStore keeps how an organisation's national numbers are read.
type PhoneSettingsStore interface {
	PhoneSettings(ctx context.Context, org string) (store.PhoneSettings, error)
	SetDefaultCountry(ctx context.Context, org, country string) error
}

// phoneSettingsView is GET/PUT /v1/settings/phone.
type phoneSettingsView struct {
	DefaultCountry     *string `json:"default_country"`
	Source             *string `json:"default_country_source"`
	Override           *string `json:"default_country_override"`
	WhatsAppCountry    *string `json:"whatsapp_number_country"`
	DisplayPhoneNumber *string `json:"whatsapp_display_phone_number"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func viewPhoneSettings(ps store.PhoneSettings) phoneSettingsView {
	return phoneSettingsView{
		DefaultCountry: orNull(ps.DefaultCountry), Source: orNull(ps.Source), Override: orNull(ps.Override),
		WhatsAppCountry: orNull(ps.WhatsAppCountry), DisplayPhoneNumber: orNull(ps.DisplayPhoneNumber),
	}
}

func (s *Server) getPhoneSettings(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.phoneSettings == nil {
		return nil, apperr.New(apperr.Unavailable, "phone settings are not configured")
	}
	ps, err := s.phoneSettings.PhoneSettings(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewPhoneSettings(ps))
}

// putPhoneSettings sets the organisation's default country
// ({"default_country":"BR"}) or, with null, goes back to its WhatsApp
// number's.
func (s *Server) putPhoneSettings(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.phoneSettings == nil {
		return nil, apperr.New(apperr.Unavailable, "phone settings are not configured")
	}
	var in struct {
		DefaultCountry json.RawMessage `json:"default_country"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	country := ""
	switch raw := strings.TrimSpace(string(in.DefaultCountry)); raw {
	case "":
		return nil, apperr.Field("default_country", "is required (an ISO 3166-1 alpha-2 code such as \"BR\", or null for the WhatsApp number's country)")
	case "null":
	default:
		var code string
		if err := json.Unmarshal(in.DefaultCountry, &code); err != nil {
			return nil, apperr.Field("default_country", "must be a string (an ISO 3166-1 alpha-2 code such as \"BR\") or null")
		}
		c, ok := phone.Country(code)
		if !ok {
			return nil, apperr.Field("default_country", "is not a country PyTake knows the numbering of (an ISO 3166-1 alpha-2 code such as \"BR\", \"MX\", \"PT\")")
		}
		country = c
	}
	if err := s.phoneSettings.SetDefaultCountry(ctx, r.OrgID(), country); err != nil {
		return nil, err
	}
	ps, err := s.phoneSettings.PhoneSettings(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewPhoneSettings(ps))
}

// defaultCountry is the organisation's default country for a phone written
// without '+' or 00 ("" when it has none); read only when raw needs it.
func (s *Server) defaultCountry(ctx context.Context, org, raw string) (string, error) {
	if s.phoneSettings == nil || !outbound.PhoneNeedsCountry(raw) {
		return "", nil
	}
	ps, err := s.phoneSettings.PhoneSettings(ctx, org)
	if err != nil {
		return "", err
	}
	return ps.DefaultCountry, nil
}

// readPhone reads a phone given to the API (a contact's whatsapp_id, a
// filter) with the organisation's default country.
func (s *Server) readPhone(ctx context.Context, org, field, raw string) (string, error) {
	def, err := s.defaultCountry(ctx, org, raw)
	if err != nil {
		return "", err
	}
	kind, d, err := outbound.NormalizeTo(field, raw, def)
	if err != nil {
		return "", err
	}
	if kind != outbound.ToPhone {
		return "", apperr.Field(field, "must be a phone number with country code, e.g. +5511999999999")
	}
	return d, nil
}
