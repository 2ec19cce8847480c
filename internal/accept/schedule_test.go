package accept_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
)

// send_at is at least a minute (or the deployment's lead) and at most 30
// days ahead; anything else is a 422 naming send_at.
func TestCheckSendAtBounds(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		at      time.Time
		minLead time.Duration
		ok      bool
	}{
		{"exactly a minute", now.Add(time.Minute), accept.MinLead, true},
		{"a second short of a minute", now.Add(59 * time.Second), accept.MinLead, false},
		{"now", now, accept.MinLead, false},
		{"in the past", now.Add(-time.Hour), accept.MinLead, false},
		{"exactly 30 days", now.Add(30 * 24 * time.Hour), accept.MinLead, true},
		{"30 days and a second", now.Add(30*24*time.Hour + time.Second), accept.MinLead, false},
		{"a lowered lead", now.Add(3 * time.Second), 2 * time.Second, true},
		{"under a lowered lead", now.Add(time.Second), 2 * time.Second, false},
		{"another offset, same instant", now.Add(2 * time.Minute).In(time.FixedZone("BRT", -3*3600)), accept.MinLead, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := accept.CheckSendAt(tt.at, now, tt.minLead)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, apperr.Unprocessable, apperr.KindOf(err), "%v", err)
			require.Equal(t, []string{"send_at"}, apperr.Fields(err))
			e, _ := apperr.As(err)
			require.Equal(t, "validation_failed", e.Code)
		})
	}
}
