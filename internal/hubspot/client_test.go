package hubspot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Tue, 01 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Tue, 01 Dec 2026 11:00:00 GMT": 0,
	} {
		assert.Equal(t, want, RetryAfter(in, now), in)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status                int
		body, retryAfter      string
		retry, unauth, absent bool
		wait                  time.Duration
	}{
		{429, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","policyName":"TEN_SECONDLY_ROLLING","category":"RATE_LIMITS"}`, "", true, false, false, 10 * time.Second},
		{429, `{"policyName":"DAILY"}`, "", true, false, false, time.Hour},
		{503, `{}`, "3", true, false, false, 3 * time.Second},
		{401, `{"category":"INVALID_AUTHENTICATION"}`, "", false, true, false, 0},
		{404, `{"category":"OBJECT_NOT_FOUND"}`, "", false, false, true, 0},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := NewClient(srv.URL, srv.Client()).GetContact(context.Background(), "tok", "1")
		srv.Close()
		e, ok := AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, tc.retry, e.Retryable(), "%d", tc.status)
		assert.Equal(t, tc.unauth, e.Unauthorized(), "%d", tc.status)
		assert.Equal(t, tc.absent, e.NotFound(), "%d", tc.status)
		assert.Equal(t, tc.wait, e.RetryAfter, "%d", tc.status)
	}
}

func TestParseBatch(t *testing.T) {
	evs, err := ParseBatch([]byte(`[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"contact.creation","objectId":9007199254740993}]`))
	require.NoError(t, err)
	assert.Equal(t, int64(9007199254740993), evs[0].ObjectID, "ids above 2^53 kept exactly")
	assert.Equal(t, "2-1-9007199254740993-4", evs[0].Key())
	for _, bad := range []string{``, `{}`, `[]`, `[{"portalId":1,"objectId":1}]`, `[{"subscriptionType":"x","objectId":1}]`, `[1]`, `[{"portalId":"x"}]`} {
		_, err := ParseBatch([]byte(bad))
		assert.Error(t, err, bad)
	}
}
