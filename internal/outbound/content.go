package outbound

import (
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
func shorthandText(c *checker, raw json.RawMessage) *textContent {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.fail("text", "cannot be read: %v", err)
		return nil
	}
	c.length("text", s, true, maxTextBody)
	return &textContent{Body: s}
}

func textMessage(o *obj) *textContent {
	t := &textContent{Body: o.text("body", true, maxTextBody)}
	t.PreviewURL = o.boolean("preview_url")
	return t
}

// mediaObject validates a media object of kind image, video, audio,
// document or sticker. Captions belong to top-level image, video and
// document messages only; filenames to documents.
func mediaObject(o *obj, kind string, topLevel bool) *media {
	m := &media{}
	id, hasID := o.str("id", false)
	link, hasLink := o.str("link", false)
	switch {
	case hasID && hasLink:
		o.c.fail(o.at("link"), "give either id or link, not both")
	case !hasID && !hasLink:
		if !o.has("id") && !o.has("link") { // wrong types were reported already
			o.c.fail(o.at("id"), "give either id (a media id from Meta) or link (an https URL)")
		}
	case hasID:
		if o.c.length(o.at("id"), id, true, maxMediaID) && strings.ContainsAny(id, " \t\r\n") {
			o.c.fail(o.at("id"), "must not contain spaces")
		}
		m.ID = id
	default:
		if issue := linkIssue(link, false); issue != "" {
			o.c.fail(o.at("link"), "%s", issue)
		}
		m.Link = link
	}
	captioned := topLevel && (kind == "image" || kind == "video" || kind == "document")
	if captioned {
		m.Caption = o.text("caption", false, maxCaption)
	} else if topLevel {
		o.forbid("caption", fmt.Sprintf("is not allowed on %s messages (only image, video and document take a caption)", kind))
	} else {
		o.forbid("caption", "is not allowed here")
	}
	if kind == "document" {
		m.Filename = o.text("filename", false, maxFilename)
	} else {
		o.forbid("filename", fmt.Sprintf("is only allowed on documents, not on %s", kind))
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

func interactiveMessage(o *obj) *interactive {
	c := o.c
	typ, ok := o.str("type", true)
	if !ok {
		o.skip("header", "body", "footer", "action")
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
		c.fail(o.at("type"), "must be one of %s", interactiveTypes)
		o.skip("header", "body", "footer", "action")
		return nil
	}
	if h := o.child("header", false); h != nil {
		in.Header = interactiveHeader(h, typ == "list")
		h.done()
	}
	if b := o.child("body", true); b != nil {
		in.Body = &textOnly{Text: b.text("text", true, bodyMax)}
		b.done()
	}
	if f := o.child("footer", false); f != nil {
		in.Footer = &textOnly{Text: f.text("text", true, maxFooterText)}
		f.done()
	}
	if a := o.child("action", true); a != nil {
		switch typ {
		case "button":
			in.Action = buttonAction(a)
		case "list":
			in.Action = listAction(a)
		case "cta_url":
			in.Action = ctaAction(a)
		}
		a.done()
	}
	return in
}

func interactiveHeader(o *obj, textOnly bool) *header {
	typ, ok := o.str("type", true)
	if !ok {
		o.skip("text", "image", "video", "document")
		return nil
	}
	h := &header{Type: typ}
	switch {
	case typ == "text":
	case textOnly:
		o.c.fail(o.at("type"), `must be "text" for a list`)
		o.skip("text", "image", "video", "document")
		return h
	case typ == "image" || typ == "video" || typ == "document":
	default:
		o.c.fail(o.at("type"), "must be one of text, image, video, document")
		o.skip("text", "image", "video", "document")
		return h
	}
	for _, k := range [...]string{"text", "image", "video", "document"} {
		if k != typ {
			o.forbid(k, fmt.Sprintf("is not allowed when header type is %q", typ))
		}
	}
	if typ == "text" {
		h.Text = o.text("text", true, maxHeaderText)
		return h
	}
	m := o.child(typ, true)
	if m == nil {
		return h
	}
	md := mediaObject(m, typ, false)
	m.done()
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

func buttonAction(a *obj) *interaction {
	c := a.c
	a.forbid("sections", "is only allowed on list messages")
	a.forbid("button", "is only allowed on list messages (reply buttons go in buttons)")
	items, ok := a.list("buttons", true)
	if !ok {
		return nil
	}
	path := a.at("buttons")
	if len(items) == 0 {
		c.fail(path, "must have at least 1 button")
	}
	act := &interaction{}
	ids := map[string]int{}
	for i, raw := range items {
		p := index(path, i)
		if i == maxButtons {
			c.fail(p, "is one button too many: at most %d are allowed", maxButtons)
		}
		b := c.object(p, raw)
		if b == nil {
			continue
		}
		if t, ok := b.str("type", true); ok && t != "reply" {
			c.fail(b.at("type"), `must be "reply"`)
		}
		var rp reply
		if r := b.child("reply", true); r != nil {
			rp.ID = r.text("id", true, maxButtonID)
			rp.Title = r.text("title", true, maxButtonTitle)
			if j, dup := ids[rp.ID]; dup && rp.ID != "" {
				c.fail(r.at("id"), "duplicates the id of %s", index(path, j))
			} else {
				ids[rp.ID] = i
			}
			r.done()
		}
		b.done()
		act.Buttons = append(act.Buttons, replyButton{Type: "reply", Reply: rp})
	}
	return act
}

func listAction(a *obj) *interaction {
	c := a.c
	a.forbid("buttons", "is only allowed on button messages")
	act := &interaction{Button: a.text("button", true, maxListButton)}
	items, ok := a.list("sections", true)
	if !ok {
		return act
	}
	path := a.at("sections")
	if len(items) == 0 {
		c.fail(path, "must have at least 1 section")
	}
	ids := map[string]string{}
	total := 0
	for i, raw := range items {
		p := index(path, i)
		if i == maxSections {
			c.fail(p, "is one section too many: at most %d are allowed", maxSections)
		}
		s := c.object(p, raw)
		if s == nil {
			continue
		}
		sec := section{Title: s.text("title", len(items) > 1, maxSectionTitle)}
		rows, ok := s.list("rows", true)
		if ok && len(rows) == 0 {
			c.fail(s.at("rows"), "must have at least 1 row")
		}
		for j, rraw := range rows {
			rp := index(s.at("rows"), j)
			total++
			if total == maxRows+1 {
				c.fail(rp, "is one row too many: a list has at most %d rows in all sections", maxRows)
			}
			r := c.object(rp, rraw)
			if r == nil {
				continue
			}
			rw := row{
				ID:          r.text("id", true, maxRowID),
				Title:       r.text("title", true, maxRowTitle),
				Description: r.text("description", false, maxRowDesc),
			}
			if first, dup := ids[rw.ID]; dup && rw.ID != "" {
				c.fail(r.at("id"), "duplicates the id of %s", first)
			} else {
				ids[rw.ID] = rp
			}
			r.done()
			sec.Rows = append(sec.Rows, rw)
		}
		s.done()
		act.Sections = append(act.Sections, sec)
	}
	return act
}

func ctaAction(a *obj) *interaction {
	c := a.c
	a.forbid("buttons", "is only allowed on button messages")
	a.forbid("sections", "is only allowed on list messages")
	a.forbid("button", "is only allowed on list messages")
	act := &interaction{Name: "cta_url"}
	if n, ok := a.str("name", true); ok && n != "cta_url" {
		c.fail(a.at("name"), `must be "cta_url"`)
	}
	p := a.child("parameters", true)
	if p == nil {
		return act
	}
	cp := &ctaParameters{DisplayText: p.text("display_text", true, maxCTADisplay)}
	if u, ok := p.str("url", true); ok {
		if issue := linkIssue(u, true); issue != "" {
			c.fail(p.at("url"), "%s", issue)
		}
		cp.URL = u
	}
	p.done()
	act.Parameters = cp
	return act
}

// Templates.

func templateMessage(o *obj) *template {
	c := o.c
	t := &template{}
	if name, ok := o.str("name", true); ok {
		switch {
		case name == "":
			c.fail(o.at("name"), "must not be empty")
		case len(name) > maxTemplateName:
			c.fail(o.at("name"), "must be at most %d characters, not %d", maxTemplateName, len(name))
		case !templateName(name):
			c.fail(o.at("name"), "must be the template's name: lowercase letters, digits and underscores")
		}
		t.Name = name
	}
	if l := o.child("language", true); l != nil {
		if code, ok := l.str("code", true); ok {
			if !languageCode(code) {
				c.fail(l.at("code"), "must be a language code such as pt_BR, en_US or en")
			}
			t.Language.Code = code
		}
		if p, ok := l.str("policy", false); ok {
			if p != "deterministic" {
				c.fail(l.at("policy"), `must be "deterministic" when given`)
			}
			t.Language.Policy = p
		}
		l.done()
	}
	items, ok := o.list("components", false)
	if !ok {
		return t
	}
	path := o.at("components")
	seen := map[string]string{}
	for i, raw := range items {
		p := index(path, i)
		co := c.object(p, raw)
		if co == nil {
			continue
		}
		comp := templateComponent(co)
		co.done()
		if comp == nil {
			continue
		}
		switch first, dup := seen[comp.Type+"#"+comp.Index]; {
		case comp.Type == "button" && comp.Index == "":
		case dup && comp.Type == "button":
			c.fail(co.at("index"), "repeats the button index of %s", first)
		case dup:
			c.fail(co.at("type"), "repeats %s: a template has one %s component", first, comp.Type)
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

func templateComponent(co *obj) *component {
	c := co.c
	typ, ok := co.str("type", true)
	if !ok {
		co.skip("sub_type", "index", "parameters")
		return nil
	}
	typ = strings.ToLower(typ)
	allowed, known := componentParams[typ]
	if !known {
		c.fail(co.at("type"), "must be one of header, body, footer, button")
		co.skip("sub_type", "index", "parameters")
		return nil
	}
	comp := &component{Type: typ}
	if typ == "button" {
		if st, ok := co.str("sub_type", true); ok {
			st = strings.ToLower(st)
			if st == "" || !templateName(st) {
				c.fail(co.at("sub_type"), "must be a button sub-type such as quick_reply, url or copy_code")
			}
			comp.SubType = st
		}
		comp.Index = buttonIndex(co)
	} else {
		co.forbid("sub_type", "is only allowed on button components")
		co.forbid("index", "is only allowed on button components")
	}
	items, ok := co.list("parameters", true)
	if !ok {
		return comp
	}
	path := co.at("parameters")
	if len(items) == 0 {
		c.fail(path, "must have at least 1 parameter (leave the component out when the template has no variables)")
	}
	comp.Parameters = []parameter{}
	for i, raw := range items {
		p := index(path, i)
		po := c.object(p, raw)
		if po == nil {
			continue
		}
		if pr := templateParameter(po, typ, allowed); pr != nil {
			comp.Parameters = append(comp.Parameters, *pr)
		}
		po.done()
	}
	return comp
}

// buttonIndex reads a button component's index, 0 to 9, given as a number
// or a string (Meta's examples use "0"); it is sent as a string.
func buttonIndex(co *obj) string {
	raw, ok := co.take("index")
	if !ok {
		co.c.fail(co.at("index"), "is required on button components (0 to 9)")
		return ""
	}
	var s string
	switch kindOf(raw) {
	case "a string":
		_ = json.Unmarshal(raw, &s)
	case "a number":
		s = strings.TrimSpace(string(raw))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 9 || len(s) != 1 {
		co.c.fail(co.at("index"), "must be a button position from 0 to 9")
		return ""
	}
	return s
}

func templateParameter(po *obj, component, allowed string) *parameter {
	c := po.c
	others := [...]string{"text", "currency", "date_time", "image", "document", "video", "payload", "coupon_code", "parameter_name"}
	typ, ok := po.str("type", true)
	if !ok {
		po.skip(others[:]...)
		return nil
	}
	if !inList(allowed, typ) {
		c.fail(po.at("type"), "must be one of %s in a %s component", allowed, component)
		po.skip(others[:]...)
		return nil
	}
	pr := &parameter{Type: typ}
	for _, k := range others[:8] {
		if k != typ {
			po.forbid(k, fmt.Sprintf("is not allowed on a %s parameter", typ))
		}
	}
	if typ == "text" {
		if name, ok := po.str("parameter_name", false); ok {
			if name == "" || len(name) > maxParameterName || !templateName(name) {
				c.fail(po.at("parameter_name"), "must be the variable's name: lowercase letters, digits and underscores")
			}
			pr.ParameterName = name
		}
	} else {
		po.forbid("parameter_name", "is only allowed on text parameters")
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
		if d := po.child("date_time", true); d != nil {
			pr.DateTime = &dateTime{FallbackValue: d.text("fallback_value", true, maxBodyParam)}
			d.done()
		}
	case "image", "document", "video":
		if m := po.child(typ, true); m != nil {
			md := mediaObject(m, typ, false)
			m.done()
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
		pr.Payload = po.text("payload", true, maxButtonParam)
	case "coupon_code":
		pr.CouponCode = po.text("coupon_code", true, maxCouponCode)
	}
	return pr
}

// textParameter reads a text parameter's value: a string, or a number
// written out exactly (order numbers arrive as JSON numbers).
func textParameter(po *obj, limit int) string {
	raw, ok := po.take("text")
	if !ok {
		c := po.c
		c.fail(po.at("text"), "is required")
		return ""
	}
	var s string
	switch k := kindOf(raw); k {
	case "a string":
		if err := json.Unmarshal(raw, &s); err != nil {
			po.c.fail(po.at("text"), "cannot be read: %v", err)
			return ""
		}
	case "a number":
		d, ok := decimal(json.Number(strings.TrimSpace(string(raw))))
		if !ok {
			po.c.fail(po.at("text"), "is a number too large to write out; send it as a string")
			return ""
		}
		s = d
	default:
		po.c.fail(po.at("text"), "must be a string or a number, not %s", k)
		return ""
	}
	po.c.length(po.at("text"), s, true, limit)
	return s
}

func currencyParameter(po *obj) *currency {
	c := po.c
	co := po.child("currency", true)
	if co == nil {
		return nil
	}
	cur := &currency{FallbackValue: co.text("fallback_value", true, maxBodyParam)}
	if code, ok := co.str("code", true); ok {
		if len(code) != 3 || strings.ToUpper(code) != code || !alnum(code) || strings.ContainsAny(code, "0123456789") {
			c.fail(co.at("code"), "must be an ISO 4217 currency code such as BRL or USD")
		}
		cur.Code = code
	}
	if n, ok := co.number("amount_1000", true); ok {
		d, _ := decimal(n)
		v, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			c.fail(co.at("amount_1000"), "must be an integer: the amount times 1000 (R$ 10,50 is 10500)")
		}
		cur.Amount1000 = v
	}
	co.done()
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

func locationMessage(o *obj) *location {
	l := &location{
		Latitude:  coordinate(o, "latitude", 90),
		Longitude: coordinate(o, "longitude", 180),
		Name:      o.text("name", false, maxLocationText),
		Address:   o.text("address", false, maxLocationText),
	}
	return l
}

// coordinate reads a number from -limit to limit, keeping its literal text.
func coordinate(o *obj, key string, limit float64) json.Number {
	n, ok := o.number(key, true)
	if !ok {
		return ""
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < -limit || f > limit {
		o.c.fail(o.at(key), "must be from %g to %g", -limit, limit)
	}
	return n
}

func reactionMessage(o *obj) *reaction {
	r := &reaction{}
	if id, ok := o.str("message_id", true); ok {
		if issue := wamidIssue(id); issue != "" {
			o.c.fail(o.at("message_id"), "%s", issue)
		}
		r.MessageID = id
	}
	if o.has("emoji") {
		if e, ok := o.str("emoji", false); ok {
			if n := utf8.RuneCountInString(e); n > maxEmoji {
				o.c.fail(o.at("emoji"), "must be one emoji, not %d characters", n)
			}
			r.Emoji = e
		}
	} else {
		o.skip("emoji")
		o.c.fail(o.at("emoji"), `is required ("" removes a reaction)`)
	}
	return r
}
