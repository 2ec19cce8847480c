package id

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewSortsByTimeAndIsValid(t *testing.T) {
	base := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 100; i++ {
		ids = append(ids, New(Contact, base.Add(time.Duration(i)*time.Millisecond)))
	}
	require.True(t, sort.StringsAreSorted(ids), "ids not sorted by time: %v", ids[:3])
	for _, s := range ids {
		require.True(t, Valid(Contact, s), "Valid(%q) = false", s)
	}
}

func TestValid(t *testing.T) {
	good := New(Organization, time.Now())
	tests := []struct {
		name, prefix, in string
		want             bool
	}{
		{"good", Organization, good, true},
		{"wrong prefix", Contact, good, false},
		{"short", Organization, "org_123", false},
		{"bad char", Organization, "org_01ARZ3NDEKTSV4RRFFQ69G5FAU", false},
		{"overflow first digit", Organization, "org_81ARZ3NDEKTSV4RRFFQ69G5FAV", false},
		{"empty", Organization, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Valid(tt.prefix, tt.in)
			require.Equal(t, tt.want, got, "Valid(%q, %q) = %v, want %v", tt.prefix, tt.in, got, tt.want)
		})
	}
}
