package outbound

import (
	"encoding/json"

	"github.com/pytake/pytake/internal/jsoncheck"
)

type textContent struct {
	Body       string `json:"body"`
	PreviewURL *bool  `json:"preview_url,omitempty"`
}

// shorthandText is {"text": "Olá!"}.
func shorthandText(c *jsoncheck.Checker, raw json.RawMessage) *textContent {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.Fail("text", "cannot be read: %v", err)
		return nil
	}
	c.Length("text", s, true, maxTextBody)
	return &textContent{Body: s}
}

func textMessage(o *jsoncheck.Obj) *textContent {
	t := &textContent{Body: o.Text("body", true, maxTextBody)}
	t.PreviewURL = o.Boolean("preview_url")
	return t
}
