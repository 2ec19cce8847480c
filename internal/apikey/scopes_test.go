package apikey

import (
	"slices"
	"testing"
)

func TestNormalizeScopes(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		want  []string
		index int // -1: the list; -2: no error
	}{
		{"sorted", []string{"messages:write", "contacts:read"}, []string{"contacts:read", "messages:write"}, -2},
		{"admin alone", []string{"admin"}, []string{"admin"}, -2},
		{"empty", []string{}, nil, -1},
		{"unknown", []string{"contacts:read", "contacts:delete"}, nil, 1},
		{"twice", []string{"admin", "admin"}, nil, 1},
		{"case", []string{"Admin"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, i, err := NormalizeScopes(tt.in)
			if tt.index == -2 {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("= %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if err == nil || i != tt.index {
				t.Fatalf("= %v, %d, %v; want an error at %d", got, i, err, tt.index)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		scopes []string
		need   string
		want   bool
	}{
		{nil, "", true},
		{[]string{"contacts:read"}, "contacts:read", true},
		{[]string{"contacts:read"}, "contacts:write", false},
		{[]string{"admin"}, "messages:write", true},
		{DefaultScopes(), "admin", false},
		{FirstKeyScopes(), "admin", true},
	}
	for _, tt := range tests {
		if got := Allows(tt.scopes, tt.need); got != tt.want {
			t.Errorf("Allows(%v, %q) = %v", tt.scopes, tt.need, got)
		}
	}
	if slices.Contains(DefaultScopes(), ScopeAdmin) || len(DefaultScopes()) != len(Scopes())-1 {
		t.Errorf("DefaultScopes = %v", DefaultScopes())
	}
}
