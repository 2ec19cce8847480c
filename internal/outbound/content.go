package outbound

import (
	"github.com/pytake/pytake/internal/jsoncheck"

	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Meta's send limits, in characters (Unicode code points).
const (
	maxTextBody      = 4096
	maxCaption       = 1024
	maxFilename      = 240
	maxLink          = 2048
	maxButtonBody    = 1024 // interactive button and cta_url body
	maxListBody      = 4096
	maxHeaderText    = 60
	maxFooterText    = 60
	maxButtons       = 3
	maxButtonID      = 256
	maxButtonTitle   = 20
	maxListButton    = 20
	maxSections      = 10
	maxRows          = 10 // across all sections
	maxSectionTitle  = 24
	maxRowID         = 200
	maxRowTitle      = 24
	maxRowDesc       = 72
	maxCTADisplay    = 20
	maxTemplateName  = 512
	maxBodyParam     = 1024
	maxHeaderParam   = 60
	maxFooterParam   = 60
	maxButtonParam   = 1024 // PyTake's bound: Meta documents none for a URL suffix or payload
	maxCouponCode    = 15
	maxLocationText  = 1000
	maxEmoji         = 32 // PyTake's bound: one emoji, ZWJ sequences included
	maxMediaID       = 256
	maxParameterName = 512
)

type textContent struct {
	Body       string `json:"body"`
	PreviewURL *bool  `json:"preview_url,omitempty"`
}

// media is a media object: a top-level image/video/audio/document/sticker,
// an interactive header's media or a template media parameter.
type media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type interactive struct {
	Type   string       `json:"type"`
	Header *header      `json:"header,omitempty"`
	Body   *textOnly    `json:"body,omitempty"`
	Footer *textOnly    `json:"footer,omitempty"`
	Action *interaction `json:"action,omitempty"`
}

type header struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Image    *media `json:"image,omitempty"`
	Video    *media `json:"video,omitempty"`
	Document *media `json:"document,omitempty"`
}

type textOnly struct {
	Text string `json:"text"`
}

type interaction struct {
	Buttons    []replyButton  `json:"buttons,omitempty"`
	Button     string         `json:"button,omitempty"`
	Sections   []section      `json:"sections,omitempty"`
	Name       string         `json:"name,omitempty"`
	Parameters *ctaParameters `json:"parameters,omitempty"`
}

type replyButton struct {
	Type  string `json:"type"`
	Reply reply  `json:"reply"`
}

type reply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type section struct {
	Title string `json:"title,omitempty"`
	Rows  []row  `json:"rows"`
}

type row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type ctaParameters struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

type template struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

type component struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type          string    `json:"type"`
	ParameterName string    `json:"parameter_name,omitempty"`
	Text          string    `json:"text,omitempty"`
	Currency      *currency `json:"currency,omitempty"`
	DateTime      *dateTime `json:"date_time,omitempty"`
	Image         *media    `json:"image,omitempty"`
	Document      *media    `json:"document,omitempty"`
	Video         *media    `json:"video,omitempty"`
	Payload       string    `json:"payload,omitempty"`
	CouponCode    string    `json:"coupon_code,omitempty"`
}

type currency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

type dateTime struct {
	FallbackValue string `json:"fallback_value"`
}

type location struct {
	Latitude  json.Number `json:"latitude"`
	Longitude json.Number `json:"longitude"`
	Name      string      `json:"name,omitempty"`
	Address   string      `json:"address,omitempty"`
}

type reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
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

const interactiveTypes = "button, list, cta_url"

func interactiveMessage(o *jsoncheck.Obj) *interactive {
	c := o.C
	typ, ok := o.Str("type", true)
	if !ok {
		o.Skip("header", "body", "footer", "action")
		return nil
	}
	in := &interactive{Type: typ}
	var bodyMax int
	switch typ {
	case "button", "cta_url":
		bodyMax = maxButtonBody
	case "list":
		bodyMax = maxListBody
	default:
		c.Fail(o.At("type"), "must be one of %s", interactiveTypes)
		o.Skip("header", "body", "footer", "action")
		return nil
	}
	if h := o.Child("header", false); h != nil {
		in.Header = interactiveHeader(h, typ == "list")
		h.Done()
	}
	if b := o.Child("body", true); b != nil {
		in.Body = &textOnly{Text: b.Text("text", true, bodyMax)}
		b.Done()
	}
	if f := o.Child("footer", false); f != nil {
		in.Footer = &textOnly{Text: f.Text("text", true, maxFooterText)}
		f.Done()
	}
	if a := o.Child("action", true); a != nil {
		switch typ {
		case "button":
			in.Action = buttonAction(a)
		case "list":
			in.Action = listAction(a)
		case "cta_url":
			in.Action = ctaAction(a)
		}
		a.Done()
	}
	return in
}

func interactiveHeader(o *jsoncheck.Obj, textOnly bool) *header {
	typ, ok := o.Str("type", true)
	if !ok {
		o.Skip("text", "image", "video", "document")
		return nil
	}
	h := &header{Type: typ}
	switch {
	case typ == "text":
	case textOnly:
		o.C.Fail(o.At("type"), `must be "text" for a list`)
		o.Skip("text", "image", "video", "document")
		return h
	case typ == "image" || typ == "video" || typ == "document":
	default:
		o.C.Fail(o.At("type"), "must be one of text, image, video, document")
		o.Skip("text", "image", "video", "document")
		return h
	}
	for _, k := range [...]string{"text", "image", "video", "document"} {
		if k != typ {
			o.Forbid(k, fmt.Sprintf("is not allowed when header type is %q", typ))
		}
	}
	if typ == "text" {
		h.Text = o.Text("text", true, maxHeaderText)
		return h
	}
	m := o.Child(typ, true)
	if m == nil {
		return h
	}
	md := mediaObject(m, typ, false)
	m.Done()
	switch typ {
	case "image":
		h.Image = md
	case "video":
		h.Video = md
	case "document":
		h.Document = md
	}
	return h
}

func buttonAction(a *jsoncheck.Obj) *interaction {
	c := a.C
	a.Forbid("sections", "is only allowed on list messages")
	a.Forbid("button", "is only allowed on list messages (reply buttons go in buttons)")
	items, ok := a.List("buttons", true)
	if !ok {
		return nil
	}
	path := a.At("buttons")
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 button")
	}
	act := &interaction{}
	ids := map[string]int{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		if i == maxButtons {
			c.Fail(p, "is one button too many: at most %d are allowed", maxButtons)
		}
		b := c.Object(p, raw)
		if b == nil {
			continue
		}
		if t, ok := b.Str("type", true); ok && t != "reply" {
			c.Fail(b.At("type"), `must be "reply"`)
		}
		var rp reply
		if r := b.Child("reply", true); r != nil {
			rp.ID = r.Text("id", true, maxButtonID)
			rp.Title = r.Text("title", true, maxButtonTitle)
			if j, dup := ids[rp.ID]; dup && rp.ID != "" {
				c.Fail(r.At("id"), "duplicates the id of %s", jsoncheck.Index(path, j))
			} else {
				ids[rp.ID] = i
			}
			r.Done()
		}
		b.Done()
		act.Buttons = append(act.Buttons, replyButton{Type: "reply", Reply: rp})
	}
	return act
}

func listAction(a *jsoncheck.Obj) *interaction {
	c := a.C
	a.Forbid("buttons", "is only allowed on button messages")
	act := &interaction{Button: a.Text("button", true, maxListButton)}
	items, ok := a.List("sections", true)
	if !ok {
		return act
	}
	path := a.At("sections")
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 section")
	}
	ids := map[string]string{}
	total := 0
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		if i == maxSections {
			c.Fail(p, "is one section too many: at most %d are allowed", maxSections)
		}
		s := c.Object(p, raw)
		if s == nil {
			continue
		}
		sec := section{Title: s.Text("title", len(items) > 1, maxSectionTitle)}
		rows, ok := s.List("rows", true)
		if ok && len(rows) == 0 {
			c.Fail(s.At("rows"), "must have at least 1 row")
		}
		for j, rraw := range rows {
			rp := jsoncheck.Index(s.At("rows"), j)
			total++
			if total == maxRows+1 {
				c.Fail(rp, "is one row too many: a list has at most %d rows in all sections", maxRows)
			}
			r := c.Object(rp, rraw)
			if r == nil {
				continue
			}
			rw := row{
				ID:          r.Text("id", true, maxRowID),
				Title:       r.Text("title", true, maxRowTitle),
				Description: r.Text("description", false, maxRowDesc),
			}
			if first, dup := ids[rw.ID]; dup && rw.ID != "" {
				c.Fail(r.At("id"), "duplicates the id of %s", first)
			} else {
				ids[rw.ID] = rp
			}
			r.Done()
			sec.Rows = append(sec.Rows, rw)
		}
		s.Done()
		act.Sections = append(act.Sections, sec)
	}
	return act
}

func ctaAction(a *jsoncheck.Obj) *interaction {
	c := a.C
	a.Forbid("buttons", "is only allowed on button messages")
	a.Forbid("sections", "is only allowed on list messages")
	a.Forbid("button", "is only allowed on list messages")
	act := &interaction{Name: "cta_url"}
	if n, ok := a.Str("name", true); ok && n != "cta_url" {
		c.Fail(a.At("name"), `must be "cta_url"`)
	}
	p := a.Child("parameters", true)
	if p == nil {
		return act
	}
	cp := &ctaParameters{DisplayText: p.Text("display_text", true, maxCTADisplay)}
	if u, ok := p.Str("url", true); ok {
		if issue := linkIssue(u, true); issue != "" {
			c.Fail(p.At("url"), "%s", issue)
		}
		cp.URL = u
	}
	p.Done()
	act.Parameters = cp
	return act
}

// Templates.

func templateMessage(o *jsoncheck.Obj) *template {
	c := o.C
	t := &template{}
	if name, ok := o.Str("name", true); ok {
		switch {
		case name == "":
			c.Fail(o.At("name"), "must not be empty")
		case len(name) > maxTemplateName:
			c.Fail(o.At("name"), "must be at most %d characters, not %d", maxTemplateName, len(name))
		case !templateName(name):
			c.Fail(o.At("name"), "must be the template's name: lowercase letters, digits and underscores")
		}
		t.Name = name
	}
	if l := o.Child("language", true); l != nil {
		if code, ok := l.Str("code", true); ok {
			if !languageCode(code) {
				c.Fail(l.At("code"), "must be a language code such as pt_BR, en_US or en")
			}
			t.Language.Code = code
		}
		if p, ok := l.Str("policy", false); ok {
			if p != "deterministic" {
				c.Fail(l.At("policy"), `must be "deterministic" when given`)
			}
			t.Language.Policy = p
		}
		l.Done()
	}
	items, ok := o.List("components", false)
	if !ok {
		return t
	}
	path := o.At("components")
	seen := map[string]string{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		co := c.Object(p, raw)
		if co == nil {
			continue
		}
		comp := templateComponent(co)
		co.Done()
		if comp == nil {
			continue
		}
		switch first, dup := seen[comp.Type+"#"+comp.Index]; {
		case comp.Type == "button" && comp.Index == "":
		case dup && comp.Type == "button":
			c.Fail(co.At("index"), "repeats the button index of %s", first)
		case dup:
			c.Fail(co.At("type"), "repeats %s: a template has one %s component", first, comp.Type)
		default:
			seen[comp.Type+"#"+comp.Index] = p
		}
		t.Components = append(t.Components, *comp)
	}
	return t
}

func templateName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// languageCode accepts ll, lll, ll_CC: the shapes of Meta's template languages.
func languageCode(s string) bool {
	lang, region, hasRegion := strings.Cut(s, "_")
	if len(lang) < 2 || len(lang) > 3 {
		return false
	}
	for i := 0; i < len(lang); i++ {
		if lang[i] < 'a' || lang[i] > 'z' {
			return false
		}
	}
	if !hasRegion {
		return true
	}
	if len(region) != 2 {
		return false
	}
	return region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z'
}

// The parameter types each template component takes.
var componentParams = map[string]string{
	"header": "text, image, video, document",
	"body":   "text, currency, date_time",
	"footer": "text",
	"button": "payload, text, coupon_code",
}

func templateComponent(co *jsoncheck.Obj) *component {
	c := co.C
	typ, ok := co.Str("type", true)
	if !ok {
		co.Skip("sub_type", "index", "parameters")
		return nil
	}
	typ = strings.ToLower(typ)
	allowed, known := componentParams[typ]
	if !known {
		c.Fail(co.At("type"), "must be one of header, body, footer, button")
		co.Skip("sub_type", "index", "parameters")
		return nil
	}
	comp := &component{Type: typ}
	if typ == "button" {
		if st, ok := co.Str("sub_type", true); ok {
			st = strings.ToLower(st)
			if st == "" || !templateName(st) {
				c.Fail(co.At("sub_type"), "must be a button sub-type such as quick_reply, url or copy_code")
			}
			comp.SubType = st
		}
		comp.Index = buttonIndex(co)
	} else {
		co.Forbid("sub_type", "is only allowed on button components")
		co.Forbid("index", "is only allowed on button components")
	}
	items, ok := co.List("parameters", true)
	if !ok {
		return comp
	}
	path := co.At("parameters")
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 parameter (leave the component out when the template has no variables)")
	}
	comp.Parameters = []parameter{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		po := c.Object(p, raw)
		if po == nil {
			continue
		}
		if pr := templateParameter(po, typ, allowed); pr != nil {
			comp.Parameters = append(comp.Parameters, *pr)
		}
		po.Done()
	}
	return comp
}

// buttonIndex reads a button component's index, 0 to 9, given as a number
// or a string (Meta's examples use "0"); it is sent as a string.
func buttonIndex(co *jsoncheck.Obj) string {
	raw, ok := co.Take("index")
	if !ok {
		co.C.Fail(co.At("index"), "is required on button components (0 to 9)")
		return ""
	}
	var s string
	switch jsoncheck.KindOf(raw) {
	case "a string":
		_ = json.Unmarshal(raw, &s)
	case "a number":
		s = strings.TrimSpace(string(raw))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 9 || len(s) != 1 {
		co.C.Fail(co.At("index"), "must be a button position from 0 to 9")
		return ""
	}
	return s
}

func templateParameter(po *jsoncheck.Obj, component, allowed string) *parameter {
	c := po.C
	others := [...]string{"text", "currency", "date_time", "image", "document", "video", "payload", "coupon_code", "parameter_name"}
	typ, ok := po.Str("type", true)
	if !ok {
		po.Skip(others[:]...)
		return nil
	}
	if !inList(allowed, typ) {
		c.Fail(po.At("type"), "must be one of %s in a %s component", allowed, component)
		po.Skip(others[:]...)
		return nil
	}
	pr := &parameter{Type: typ}
	for _, k := range others[:8] {
		if k != typ {
			po.Forbid(k, fmt.Sprintf("is not allowed on a %s parameter", typ))
		}
	}
	if typ == "text" {
		if name, ok := po.Str("parameter_name", false); ok {
			if name == "" || len(name) > maxParameterName || !templateName(name) {
				c.Fail(po.At("parameter_name"), "must be the variable's name: lowercase letters, digits and underscores")
			}
			pr.ParameterName = name
		}
	} else {
		po.Forbid("parameter_name", "is only allowed on text parameters")
	}
	switch typ {
	case "text":
		limit := maxBodyParam
		switch component {
		case "header":
			limit = maxHeaderParam
		case "footer":
			limit = maxFooterParam
		case "button":
			limit = maxButtonParam
		}
		pr.Text = textParameter(po, limit)
	case "currency":
		pr.Currency = currencyParameter(po)
	case "date_time":
		if d := po.Child("date_time", true); d != nil {
			pr.DateTime = &dateTime{FallbackValue: d.Text("fallback_value", true, maxBodyParam)}
			d.Done()
		}
	case "image", "document", "video":
		if m := po.Child(typ, true); m != nil {
			md := mediaObject(m, typ, false)
			m.Done()
			switch typ {
			case "image":
				pr.Image = md
			case "document":
				pr.Document = md
			case "video":
				pr.Video = md
			}
		}
	case "payload":
		pr.Payload = po.Text("payload", true, maxButtonParam)
	case "coupon_code":
		pr.CouponCode = po.Text("coupon_code", true, maxCouponCode)
	}
	return pr
}

// textParameter reads a text parameter's value: a string, or a number
// written out exactly (order numbers arrive as JSON numbers).
func textParameter(po *jsoncheck.Obj, limit int) string {
	raw, ok := po.Take("text")
	if !ok {
		c := po.C
		c.Fail(po.At("text"), "is required")
		return ""
	}
	var s string
	switch k := jsoncheck.KindOf(raw); k {
	case "a string":
		if err := json.Unmarshal(raw, &s); err != nil {
			po.C.Fail(po.At("text"), "cannot be read: %v", err)
			return ""
		}
	case "a number":
		d, ok := jsoncheck.Decimal(json.Number(strings.TrimSpace(string(raw))))
		if !ok {
			po.C.Fail(po.At("text"), "is a number too large to write out; send it as a string")
			return ""
		}
		s = d
	default:
		po.C.Fail(po.At("text"), "must be a string or a number, not %s", k)
		return ""
	}
	po.C.Length(po.At("text"), s, true, limit)
	return s
}

func currencyParameter(po *jsoncheck.Obj) *currency {
	c := po.C
	co := po.Child("currency", true)
	if co == nil {
		return nil
	}
	cur := &currency{FallbackValue: co.Text("fallback_value", true, maxBodyParam)}
	if code, ok := co.Str("code", true); ok {
		if len(code) != 3 || strings.ToUpper(code) != code || !alnum(code) || strings.ContainsAny(code, "0123456789") {
			c.Fail(co.At("code"), "must be an ISO 4217 currency code such as BRL or USD")
		}
		cur.Code = code
	}
	if n, ok := co.Number("amount_1000", true); ok {
		d, _ := jsoncheck.Decimal(n)
		v, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			c.Fail(co.At("amount_1000"), "must be an integer: the amount times 1000 (R$ 10,50 is 10500)")
		}
		cur.Amount1000 = v
	}
	co.Done()
	return cur
}

func inList(list, s string) bool {
	for _, v := range strings.Split(list, ", ") {
		if v == s {
			return true
		}
	}
	return false
}

// Location and reaction.

func locationMessage(o *jsoncheck.Obj) *location {
	l := &location{
		Latitude:  coordinate(o, "latitude", 90),
		Longitude: coordinate(o, "longitude", 180),
		Name:      o.Text("name", false, maxLocationText),
		Address:   o.Text("address", false, maxLocationText),
	}
	return l
}

// coordinate reads a number from -limit to limit, keeping its literal text.
func coordinate(o *jsoncheck.Obj, key string, limit float64) json.Number {
	n, ok := o.Number(key, true)
	if !ok {
		return ""
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < -limit || f > limit {
		o.C.Fail(o.At(key), "must be from %g to %g", -limit, limit)
	}
	return n
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
