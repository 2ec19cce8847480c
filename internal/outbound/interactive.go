package outbound

import (
	"fmt"

	"github.com/pytake/pytake/internal/jsoncheck"
)

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
