package outbound

import (
	"unicode/utf8"

	"github.com/pytake/pytake/internal/jsoncheck"
)

type reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

func reactionMessage(o *jsoncheck.Obj) *reaction {
	r := &reaction{}
	if id, ok := o.Str("message_id", true); ok {
		if issue := wamidIssue(id); issue != "" {
			o.C.Fail(o.At("message_id"), "%s", issue)
		}
		r.MessageID = id
	}
	if o.Has("emoji") {
		if e, ok := o.Str("emoji", false); ok {
			if n := utf8.RuneCountInString(e); n > maxEmoji {
				o.C.Fail(o.At("emoji"), "must be one emoji, not %d characters", n)
			}
			r.Emoji = e
		}
	} else {
		o.Skip("emoji")
		o.C.Fail(o.At("emoji"), `is required ("" removes a reaction)`)
	}
	return r
}
