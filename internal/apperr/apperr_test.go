package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindsMapToStatusesAndCodes(t *testing.T) {
	for k := Internal; k <= BadGateway; k++ {
		assert.NotEqual(t, 0, k.Status(), "kind %d has no status", k)
		assert.NotEmpty(t, defaultCodes[k], "kind %d has no code", k)
	}
}

func TestKindOfThroughWrapping(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want Kind
		code int
	}{
		{"plain", base, Internal, http.StatusInternalServerError},
		{"direct", New(NotFound, "no"), NotFound, http.StatusNotFound},
		{"wrapped", fmt.Errorf("ctx: %w", New(Conflict, "dup").WithCause(base)), Conflict, http.StatusConflict},
		{"field", Field("to", "required"), Unprocessable, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %d, want %d", got, tt.want)
			}
			got := KindOf(tt.err).Status()
			require.Equal(t, tt.code, got, "status = %d, want %d", got, tt.code)
		})
	}
	require.ErrorIs(t, New(Conflict, "x").WithCause(base), base, "cause not reachable with errors.Is")
}

func TestFields(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", New(Unprocessable, "bad").WithDetails(Detail{Field: "a", Issue: "x"}, Detail{Field: "b", Issue: "y"}))
	got := Fields(err)
	require.Len(t, got, 2, "Fields = %v", got)
	require.Equal(t, "a", got[0], "Fields")
	require.Equal(t, "b", got[1], "Fields")
	require.Nil(t, Fields(errors.New("plain")), "an error without details has no fields")
	require.Nil(t, DetailsOf(nil), "an error without details has no fields")
}
