package outbound

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/jsoncheck"
)

// media is a media object: a top-level image/video/audio/document/sticker,
// an interactive header's media or a template media parameter.
type media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// mediaObject validates a media object of kind image, video, audio,
// document or sticker. Captions belong to top-level image, video and
// document messages only; filenames to documents.
func mediaObject(o *jsoncheck.Obj, kind string, topLevel bool) *media {
	m := &media{}
	id, hasID := o.Str("id", false)
	link, hasLink := o.Str("link", false)
	switch {
	case hasID && hasLink:
		o.C.Fail(o.At("link"), "give either id or link, not both")
	case !hasID && !hasLink:
		if !o.Has("id") && !o.Has("link") { // wrong types were reported already
			o.C.Fail(o.At("id"), "give either id (a media id from Meta) or link (an https URL)")
		}
	case hasID:
		if o.C.Length(o.At("id"), id, true, maxMediaID) && strings.ContainsAny(id, " \t\r\n") {
			o.C.Fail(o.At("id"), "must not contain spaces")
		}
		m.ID = id
	default:
		if issue := linkIssue(link, false); issue != "" {
			o.C.Fail(o.At("link"), "%s", issue)
		}
		m.Link = link
	}
	captioned := topLevel && (kind == "image" || kind == "video" || kind == "document")
	if captioned {
		m.Caption = o.Text("caption", false, maxCaption)
	} else if topLevel {
		o.Forbid("caption", fmt.Sprintf("is not allowed on %s messages (only image, video and document take a caption)", kind))
	} else {
		o.Forbid("caption", "is not allowed here")
	}
	if kind == "document" {
		m.Filename = o.Text("filename", false, maxFilename)
	} else {
		o.Forbid("filename", fmt.Sprintf("is only allowed on documents, not on %s", kind))
	}
	return m
}

// linkIssue checks a URL Meta fetches or opens; "" when it is fine.
func linkIssue(s string, httpsOnly bool) string {
	if strings.TrimSpace(s) == "" {
		return "must not be empty"
	}
	if n := utf8.RuneCountInString(s); n > maxLink {
		return fmt.Sprintf("must be at most %d characters, not %d", maxLink, n)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return "must not contain spaces (percent-encode them)"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "must be a valid URL"
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && !httpsOnly:
	case httpsOnly:
		return "must be an absolute https:// URL"
	default:
		return "must be an absolute https:// or http:// URL"
	}
	if u.Host == "" {
		return "must be an absolute URL with a host"
	}
	return ""
}

// Interactive messages.
