package dashboard

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// The pages are written by Go code (pages_html.go), not by html/template:
// text/template calls methods by name through reflection, which makes the
// linker keep every exported method of every type that reaches an
// interface (+4.2 MB of artifact, and the cold start that goes with it).
// The escaping is html/template's, context by context, and the pages are
// byte for byte what it rendered (TestPagesRender):
//
//   - text and quoted attribute values: esc (html/template's htmlEscaper);
//   - href and action: url, given the whole URL, with every query value
//     already through queryEscape (html/template's urlEscaper) and path
//     values as they are: a scheme other than http, https or mailto
//     (javascript:, data:, ...) is refused as "#ZgotmplZ"
//     (html/template's urlFilter), then the URL is normalised
//     (urlNormalizer) and escaped as an attribute value;
//   - no page has inline script or style, no event handler attribute and
//     no unquoted attribute value (the Content-Security-Policy forbids the
//     first three; TestHostileValues checks).
//
// Every value goes through one of those; markup is written by raw with
// constant strings only.

// html is a page being written.
type html struct {
	b bytes.Buffer
}

// raw writes markup (a constant, never a value).
func (w *html) raw(s string) { w.b.WriteString(s) }

// esc writes a value as HTML text or a quoted attribute value.
func (w *html) esc(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		w.b.WriteString(s[last:i])
		w.b.WriteString(r)
		last = i + 1
	}
	w.b.WriteString(s[last:])
}

// t writes a message of the page's language as text.
func (w *html) t(v view, key string) { w.esc(v.T(key)) }

// int writes a number as text.
func (w *html) int(n int64) { w.b.WriteString(strconv.FormatInt(n, 10)) }

// url writes a URL as an href or action value (see above).
func (w *html) url(u string) {
	if !safeURL(u) {
		u = "#ZgotmplZ"
	}
	w.esc(processURL(u, true))
}

// safeURL says whether u is relative or its scheme is http, https or mailto.
func safeURL(u string) bool {
	scheme, _, ok := strings.Cut(u, ":")
	if !ok || strings.Contains(scheme, "/") {
		return true
	}
	return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
}

// queryEscape escapes a value for a URL's query: every byte but letters,
// digits and -._~ percent-encoded.
func queryEscape(s string) string { return processURL(s, false) }

// processURL percent-encodes what a URL may not hold (norm) or, for a
// query value, everything but the unreserved characters (!norm), as
// html/template does (UTF-8 bytes, lower-case hex; a valid escape left as
// it is when normalising).
func processURL(s string, norm bool) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			continue
		case norm && strings.IndexByte("!#$&*+,/:;=?@[]", c) >= 0:
			continue
		case norm && c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		if written == 0 {
			b.Grow(len(s) + 16)
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// when is a time as the pages show it (UTC), "—" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return when(*t)
}

// excerpt is s cut to n characters, with an ellipsis when cut.
func excerpt(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// savedHint says a secret is saved (masked as the API shows it) and that
// leaving it empty keeps it.
func savedHint(saved bool, masked, savedAs, keep string) string {
	if !saved {
		return ""
	}
	return savedAs + " " + masked + " — " + keep
}

func lastAttempt(a []store.Attempt) *store.Attempt {
	if len(a) == 0 {
		return nil
	}
	return &a[len(a)-1]
}

// formatAny is a contact attribute's value as text (fmt's %v; nothing for
// null).
func formatAny(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// contents are the pages, by name: each writes what goes in the layout's
// <main>, from its data.
var contents = map[string]func(w *html, v view, data any) error{
	"login":         loginContent,
	"message":       messageContent,
	"whatsapp":      whatsappContent,
	"webhooks":      webhooksContent,
	"webhook":       webhookContent,
	"keys":          keysContent,
	"conversations": conversationsContent,
	"conversation":  conversationContent,
	"contacts":      contactsContent,
}

// dataAs is a page's data as its type.
func dataAs[T any](page string, data any) (T, error) {
	d, ok := data.(T)
	if !ok {
		return d, fmt.Errorf("dashboard: page %s given %T, not %T", page, data, d)
	}
	return d, nil
}

func (s *Server) render(status int, name string, v view, data any) (*httpapi.Response, error) {
	content, ok := contents[name]
	if !ok {
		return nil, fmt.Errorf("dashboard: no page %q", name)
	}
	w := &html{}
	w.b.Grow(8 << 10)
	if err := layout(w, v, func(w *html) error { return content(w, v, data) }); err != nil {
		return nil, fmt.Errorf("dashboard: render %s: %w", name, err)
	}
	return &httpapi.Response{Status: status, Body: w.b.Bytes(), Headers: map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
	}}, nil
}

// layout writes the page around its content: head, navigation, the
// notice, error and value shown once.
func layout(w *html, v view, content func(w *html) error) error {
	w.raw("<!doctype html>\n<html lang=\"")
	w.esc(v.Lang)
	w.raw("\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	w.t(v, v.Title)
	w.raw(" · ")
	w.t(v, "app")
	w.raw("</title>\n<link rel=\"stylesheet\" href=\"/dashboard/static/app.css\">\n<script src=\"/dashboard/static/app.js\" defer></script>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">")
	w.t(v, "skip")
	w.raw("</a>\n<header class=\"top\">\n  <span class=\"brand\">")
	w.t(v, "app")
	w.raw("</span>\n  ")
	if v.CSRF != "" && v.OrgName != "" {
		w.raw("\n  <nav aria-label=\"")
		w.t(v, "nav.settings")
		w.raw("\">\n    <ul>")
		for _, n := range [...]struct{ nav, href string }{
			{"whatsapp", "/dashboard/settings/whatsapp"}, {"webhooks", "/dashboard/webhooks"}, {"keys", "/dashboard/keys"},
			{"conversations", "/dashboard/conversations"}, {"contacts", "/dashboard/contacts"},
		} {
			w.raw("\n      <li><a href=\"")
			w.url(n.href)
			w.raw("\"")
			if v.Nav == n.nav {
				w.raw(" aria-current=\"page\"")
			}
			w.raw(">")
			w.t(v, "nav."+n.nav)
			w.raw("</a></li>")
		}
		w.raw("\n    </ul>\n  </nav>\n  ")
	}
	w.raw("\n  <div class=\"who\">\n    <a href=\"")
	w.url("/dashboard/lang?to=" + queryEscape(v.T("switch.lang")) + "&back=" + queryEscape(v.Path))
	w.raw("\" lang=\"")
	w.t(v, "switch.lang")
	w.raw("\">")
	w.t(v, "switch")
	w.raw("</a>\n    ")
	if v.OrgName != "" {
		w.raw("\n    <span>")
		w.esc(v.OrgName)
		w.raw(" · <code>")
		w.esc(v.KeyLabel)
		w.raw("</code></span>\n    <form method=\"post\" action=\"/dashboard/logout\" class=\"inline\">\n      ")
		csrfInput(w, v)
		w.raw("\n      <button type=\"submit\">")
		w.t(v, "signout")
		w.raw("</button>\n    </form>\n    ")
	}
	w.raw("\n  </div>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n<h1>")
	w.t(v, v.Title)
	w.raw("</h1>\n")
	if v.Notice != "" {
		w.raw("<p class=\"notice\" role=\"status\"><span aria-hidden=\"true\">✔ </span>")
		w.esc(v.Notice)
		w.raw("</p>")
	}
	w.raw("\n")
	if v.Error != "" {
		w.raw("<p class=\"error\" role=\"alert\" id=\"form-error\"><span aria-hidden=\"true\">✖ </span>")
		w.esc(v.Error)
		w.raw("</p>")
	}
	w.raw("\n")
	if v.Secret != "" {
		w.raw("\n<div class=\"once\" role=\"status\">\n  <p><strong>")
		w.t(v, "shownonce")
		w.raw("</strong></p>\n  <p><code id=\"secret-once\">")
		w.esc(v.Secret)
		w.raw("</code> ")
		copyButton(w, v, "secret-once")
		w.raw("</p>\n</div>\n")
	}
	w.raw("\n")
	if err := content(w); err != nil {
		return err
	}
	w.raw("\n</main>\n</body>\n</html>\n")
	return nil
}

// csrfInput is a form's CSRF token field.
func csrfInput(w *html, v view) {
	w.raw("<input type=\"hidden\" name=\"csrf\" value=\"")
	w.esc(v.CSRF)
	w.raw("\">")
}

// copyButton copies the text of the element with id target (app.js).
func copyButton(w *html, v view, target string) {
	w.raw("<button type=\"button\" class=\"copy\" data-copy=\"")
	w.esc(target)
	w.raw("\" data-copied=\"")
	w.t(v, "copied")
	w.raw("\">")
	w.t(v, "copy")
	w.raw("</button>")
}

// invalid marks a field invalid and points at its error, when it has one.
func invalid(w *html, v view, field string) {
	if v.FieldError(field) != "" {
		w.raw("aria-invalid=\"true\" aria-describedby=\"")
		w.esc(field)
		w.raw("-error\"")
	}
}

// fieldError is a field's error paragraph, when it has one.
func fieldError(w *html, v view, field string) { errorParagraph(w, field, v.FieldError(field)) }

func errorParagraph(w *html, field, msg string) {
	if msg == "" {
		return
	}
	w.raw("<p class=\"field-error\" id=\"")
	w.esc(field)
	w.raw("-error\"><span aria-hidden=\"true\">✖ </span>")
	w.esc(msg)
	w.raw("</p>")
}

// codeList writes values as <code>, comma separated.
func codeList(w *html, values []string) {
	for i, s := range values {
		if i > 0 {
			w.raw(", ")
		}
		w.raw("<code>")
		w.esc(s)
		w.raw("</code>")
	}
}

// next is a list's link to its next page, when there is one.
func next(w *html, v view, href string, cursor string) {
	if cursor == "" {
		return
	}
	w.raw("<p><a href=\"")
	w.url(href + "cursor=" + queryEscape(cursor))
	w.raw("\">")
	w.t(v, "next")
	w.raw("</a></p>")
}

// none is an empty list's paragraph.
func none(w *html, v view) {
	w.raw("<p>")
	w.t(v, "none")
	w.raw("</p>")
}

// selectedIf, checkedIf write an option's or checkbox's state.
func selectedIf(w *html, on bool) {
	if on {
		w.raw("selected")
	}
}

func checkedIf(w *html, on bool) {
	if on {
		w.raw("checked")
	}
}
