package graphsim

import (
	"encoding/json"

	"github.com/pytake/pytake/internal/graph/sendrules"
)

// The send validation lives in internal/graph/sendrules, shared with the
// sender's test-mode transport so that both answer a send alike.
type (
	send    = sendrules.Send
	invalid = sendrules.Invalid
)

func validateSend(body map[string]json.RawMessage) (send, *invalid) { return sendrules.Validate(body) }

func str(m map[string]json.RawMessage, key string) (string, error) { return sendrules.Str(m, key) }
func isNull(raw json.RawMessage) bool                              { return sendrules.IsNull(raw) }
func digits(s string) string                                       { return sendrules.Digits(s) }
func isBSUID(s string) bool                                        { return sendrules.IsBSUID(s) }
func normalisePeer(s string) string                                { return sendrules.NormalisePeer(s) }
