package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestKindsMapToStatusesAndCodes(t *testing.T) {
	for k := Internal; k <= BadGateway; k++ {
		if k.Status() == 0 {
			t.Errorf("kind %d has no status", k)
		}
		if defaultCodes[k] == "" {
			t.Errorf("kind %d has no code", k)
		}
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
			if got := KindOf(tt.err).Status(); got != tt.code {
				t.Fatalf("status = %d, want %d", got, tt.code)
			}
		})
	}
	if !errors.Is(New(Conflict, "x").WithCause(base), base) {
		t.Fatal("cause not reachable with errors.Is")
	}
}

func TestFields(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", New(Unprocessable, "bad").WithDetails(Detail{Field: "a", Issue: "x"}, Detail{Field: "b", Issue: "y"}))
	if got := Fields(err); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("Fields = %v", got)
	}
	if Fields(errors.New("plain")) != nil || DetailsOf(nil) != nil {
		t.Fatal("an error without details has no fields")
	}
}
