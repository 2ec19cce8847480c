package tenant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/tenant"
)

// fakeMeta: phones readable per token, a WABA's numbers, or a network error.
type fakeMeta struct {
	readable map[string]string   // phone id → the token that reads it
	wabas    map[string][]string // WABA → numbers
	down     bool
	version  string
}

func (m *fakeMeta) GetPhoneNumber(_ context.Context, version, phone, token string) (graph.PhoneNumber, error) {
	m.version = version
	if m.down {
		return graph.PhoneNumber{}, errors.New("dial tcp: connection refused")
	}
	if m.readable[phone] != token {
		return graph.PhoneNumber{}, &graph.Error{HTTPStatus: 400, Code: 100, ErrorSubcode: 33, Message: "Unsupported get request."}
	}
	return graph.PhoneNumber{ID: phone}, nil
}

func (m *fakeMeta) PhoneNumbersOfWABA(_ context.Context, _, waba, _ string) ([]string, error) {
	ids, ok := m.wabas[waba]
	if !ok {
		return nil, &graph.Error{HTTPStatus: 400, Code: 100, ErrorSubcode: 33, Message: "Unsupported get request."}
	}
	return ids, nil
}

func TestProveWhatsApp(t *testing.T) {
	meta := &fakeMeta{readable: map[string]string{"1065": "owner"}, wabas: map[string][]string{"1022": {"1065"}, "1033": {"9999"}}}
	tests := []struct {
		name  string
		c     secrets.WhatsApp
		down  bool
		kind  apperr.Kind // 0: proven
		field string
	}{
		{"the owner, no WABA", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner"}, false, 0, ""},
		{"the owner and its WABA", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner", WABAID: "1022"}, false, 0, ""},
		{"another token", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "squatter"}, false, apperr.Unprocessable, "phone_number_id"},
		{"another WABA", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner", WABAID: "1033"}, false, apperr.Unprocessable, "waba_id"},
		{"unknown WABA", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner", WABAID: "1044"}, false, apperr.Unprocessable, "waba_id"},
		{"Meta unreachable", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner"}, true, apperr.BadGateway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta.down = tt.down
			_, err := tenant.ProveWhatsApp(context.Background(), meta, "v26.0", tt.c)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("not proven: %v", err)
				}
				return
			}
			if !apperr.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %d", err, tt.kind)
			}
			if fields := apperr.Fields(err); tt.field != "" && (len(fields) != 1 || fields[0] != tt.field) {
				t.Fatalf("fields %v, want %s", fields, tt.field)
			}
		})
	}
	_, _ = tenant.ProveWhatsApp(context.Background(), meta, "v26.0", secrets.WhatsApp{PhoneNumberID: "1065", AccessToken: "owner", GraphAPIVersion: "v25.0"})
	if meta.version != "v25.0" {
		t.Errorf("the settings' Graph API version is not used: %s", meta.version)
	}
}
