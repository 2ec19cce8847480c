package chatbot

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/outbound"
)

// Limits of a chatbot, in characters (Unicode code points). The reply
// limits are Meta's send limits (FACTS.md "Send limits").
const (
	MaxName        = 100
	MaxWelcome     = 4096
	MaxRules       = 50
	MaxKeywords    = 50 // per rule
	MaxKeyword     = 100
	MaxReplyID     = 256
	MaxRuleID      = 64
	MaxText        = 4096 // text reply
	MaxButtonBody  = 1024 // text above reply buttons
	MaxButtons     = 3
	MaxButtonID    = 256
	MaxButtonTitle = 20
)

// The reply types.
const (
	ReplyText     = "text"
	ReplyButtons  = "buttons"
	ReplyTemplate = "template"
)

// Reply is one message the bot sends.
type Reply struct {
	Type    string   `json:"type"` // text, buttons or template
	Text    string   `json:"text,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	// Template is a template object as POST /v1/messages takes it ({"name",
	// "language":{"code"}, "components"}), in outbound's canonical form.
	Template json.RawMessage `json:"template,omitempty"`
}

// Button is a reply button: the customer taps it and the bot receives its
// id as Inbound.ReplyID.
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Match says when a rule applies; exactly one member is set.
type Match struct {
	Keywords []string `json:"keywords,omitempty"`
	ReplyID  string   `json:"reply_id,omitempty"`
	Any      bool     `json:"any,omitempty"`
}

// Rule is one step of a bot: when Match matches, send Reply and/or hand the
// conversation to a person.
type Rule struct {
	ID      string `json:"id"`
	Match   Match  `json:"match"`
	Reply   *Reply `json:"reply,omitempty"`
	Handoff bool   `json:"handoff"`
}

// Bot is a chatbot as the REST API shows it.
type Bot struct {
	Name           string `json:"name"`
	WelcomeMessage string `json:"welcome_message"`
	Active         bool   `json:"active"`
	Rules          []Rule `json:"rules"`
	Fallback       *Reply `json:"fallback,omitempty"`
}

// ParseCreate reads the body of POST /v1/chatbots:
//
//	{"name": "Atendimento", "welcome_message": "Olá!", "active": true,
//	 "rules": [{"id": "precos", "match": {"keywords": ["preço"]},
//	            "reply": {"type": "text", "text": "..."}, "handoff": false}],
//	 "fallback": {"type": "text", "text": "..."}}
//
// name is required; active defaults to true; rules to none. Rules without
// an id get "r<position>" (r1 for the first). A body that is not a JSON
// object is an apperr.Invalid (400); an object that breaks a rule is an
// apperr.Unprocessable (422) listing every problem with its field path.
func ParseCreate(body []byte) (Bot, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return Bot{}, err
	}
	c := jsoncheck.New("chatbot")
	o := c.Object("", raw)
	if o == nil {
		return Bot{}, c.Err()
	}
	b := Bot{Active: true, Rules: []Rule{}}
	b.Name = o.Text("name", true, MaxName)
	c.Plain(o.At("name"), b.Name)
	b.WelcomeMessage = welcome(o)
	if v := o.Boolean("active"); v != nil {
		b.Active = *v
	}
	if items, ok := o.List("rules", false); ok {
		b.Rules = rules(c, o.At("rules"), items)
	}
	if f := o.Child("fallback", false); f != nil {
		b.Fallback = reply(f)
		f.Done()
	}
	o.Done()
	if err := c.Err(); err != nil {
		return Bot{}, err
	}
	return b, nil
}

// ParsePatch applies the body of PATCH /v1/chatbots/{id} to cur. Any subset
// of name, welcome_message, active, rules and fallback may be given, with
// the rules of ParseCreate; rules replaces the whole list; fallback null
// removes the fallback and welcome_message null (or "") removes the welcome
// message. null is refused for name, active and rules. An empty object
// changes nothing. cur is not modified.
func ParsePatch(cur Bot, body []byte) (Bot, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return Bot{}, err
	}
	c := jsoncheck.New("chatbot")
	o := c.Object("", raw)
	if o == nil {
		return Bot{}, c.Err()
	}
	b := cur
	b.Rules = slices.Clone(cur.Rules)
	if b.Rules == nil {
		b.Rules = []Rule{}
	}
	if o.Given("name") && notNull(o, "name", "must not be null") {
		b.Name = o.Text("name", true, MaxName)
		c.Plain(o.At("name"), b.Name)
	}
	if o.Given("welcome_message") {
		b.WelcomeMessage = welcome(o) // null: "", no welcome message
	}
	if o.Given("active") && notNull(o, "active", "must be true or false, not null") {
		if v := o.Boolean("active"); v != nil {
			b.Active = *v
		}
	}
	if o.Given("rules") && notNull(o, "rules", "must be an array, not null (use [] to remove every rule)") {
		if items, ok := o.List("rules", false); ok {
			b.Rules = rules(c, o.At("rules"), items)
		}
	}
	if o.Given("fallback") {
		b.Fallback = nil // null removes it
		if f := o.Child("fallback", false); f != nil {
			b.Fallback = reply(f)
			f.Done()
		}
	}
	o.Done()
	if err := c.Err(); err != nil {
		return Bot{}, err
	}
	return b, nil
}

// notNull reports key with issue, and marks it read, when it is null.
func notNull(o *jsoncheck.Obj, key, issue string) bool {
	if o.Given(key) && !o.Has(key) {
		o.C.Fail(o.At(key), "%s", issue)
		o.Skip(key)
		return false
	}
	return true
}

// welcome reads welcome_message: "" (or absent) for none, else text that
// is not blank.
func welcome(o *jsoncheck.Obj) string {
	s, ok := o.Str("welcome_message", false)
	if !ok {
		return ""
	}
	if s != "" && strings.TrimSpace(s) == "" {
		o.C.Fail(o.At("welcome_message"), `must not be blank (leave it out, or use "" for no welcome message)`)
		return ""
	}
	o.C.Length(o.At("welcome_message"), s, false, MaxWelcome)
	return s
}

// rules reads the rule list at path and gives every rule an id.
func rules(c *jsoncheck.Checker, path string, items []json.RawMessage) []Rule {
	out := make([]Rule, 0, len(items))
	given := make([]bool, 0, len(items)) // the rule carried its own id
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		if i == MaxRules {
			c.Fail(p, "is one rule too many: at most %d are allowed", MaxRules)
		}
		r, hasID := rule(c, p, raw)
		out = append(out, r)
		given = append(given, hasID)
	}
	// Ids given in the body are claimed first, so a generated id never
	// takes one a client chose.
	owner := map[string]int{}
	for i, r := range out {
		if !given[i] || r.ID == "" {
			continue
		}
		if j, dup := owner[r.ID]; dup {
			c.Fail(jsoncheck.Index(path, i)+".id", "duplicates the id of %s", jsoncheck.Index(path, j))
			continue
		}
		owner[r.ID] = i
	}
	for i := range out {
		if given[i] {
			continue
		}
		id := "r" + strconv.Itoa(i+1)
		if j, dup := owner[id]; dup {
			c.Fail(jsoncheck.Index(path, i)+".id", "is missing, and the id it would get (%q) is taken by %s; give this rule an id", id, jsoncheck.Index(path, j))
		}
		owner[id] = i
		out[i].ID = id
	}
	return out
}

// rule reads one rule; hasID says whether it carried an id.
func rule(c *jsoncheck.Checker, path string, raw json.RawMessage) (r Rule, hasID bool) {
	o := c.Object(path, raw)
	if o == nil {
		return Rule{}, true // reported; do not generate an id for it
	}
	if id, ok := o.Str("id", false); ok {
		hasID = true
		if issue := ruleIDIssue(id); issue != "" {
			c.Fail(o.At("id"), "%s", issue)
		} else {
			r.ID = id
		}
	} else if o.Has("id") {
		hasID = true // of the wrong type, reported
	}
	if m := o.Child("match", true); m != nil {
		r.Match = match(m)
		m.Done()
	}
	if ro := o.Child("reply", false); ro != nil {
		r.Reply = reply(ro)
		ro.Done()
	}
	h := o.Boolean("handoff")
	if h != nil {
		r.Handoff = *h
	}
	handoffBad := h == nil && o.Has("handoff") // of the wrong type, reported
	if !o.Has("reply") && !r.Handoff && !handoffBad {
		c.Fail(o.At("reply"), "is required unless handoff is true (a rule must reply, hand off, or both)")
	}
	o.Done()
	return r, hasID
}

// ruleIDIssue checks a rule id; "" when it is fine.
func ruleIDIssue(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > MaxRuleID:
		return "must be at most " + strconv.Itoa(MaxRuleID) + " characters"
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			return "must be letters, digits, _ and - only"
		}
	}
	return ""
}

// match reads a rule's match: exactly one of keywords, reply_id, any: true.
func match(o *jsoncheck.Obj) Match {
	c := o.C
	var m Match
	n := 0
	if items, ok := o.List("keywords", false); ok {
		n++
		m.Keywords = keywords(c, o.At("keywords"), items)
	} else if o.Has("keywords") {
		n++ // of the wrong type, reported
	}
	if o.Has("reply_id") {
		n++
		if s, ok := o.Str("reply_id", false); ok {
			if c.Length(o.At("reply_id"), s, true, MaxReplyID) {
				c.Plain(o.At("reply_id"), s)
			}
			m.ReplyID = s
		}
	} else {
		o.Skip("reply_id")
	}
	anyOK := true
	if o.Has("any") {
		v := o.Boolean("any")
		switch {
		case v == nil:
			anyOK = false // of the wrong type, reported
			n++
		case *v:
			m.Any = true
			n++
		}
	} else {
		o.Skip("any")
	}
	switch {
	case n > 1:
		c.Fail(o.Path(), "must have exactly one of keywords, reply_id or any, not %d", n)
	case n == 0 && anyOK:
		c.Fail(o.Path(), "needs one of keywords (a list of words), reply_id (a button or list reply id) or any: true")
	}
	return m
}

// keywords reads a keyword list.
// ParseKeywords reads a list of keywords as a rule's match.keywords is read
// (at most MaxKeywords, each at most MaxKeyword characters of plain text
// with a letter or a digit), reporting problems to c under path. Opt-out
// keywords are read with it.
func ParseKeywords(c *jsoncheck.Checker, path string, items []json.RawMessage) []string {
	return keywords(c, path, items)
}

func keywords(c *jsoncheck.Checker, path string, items []json.RawMessage) []string {
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 keyword")
	}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		if i == MaxKeywords {
			c.Fail(p, "is one keyword too many: at most %d are allowed", MaxKeywords)
		}
		if k := jsoncheck.KindOf(raw); k != "a string" {
			c.Fail(p, "must be a string, not %s", k)
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			c.Fail(p, "cannot be read: %v", err)
			continue
		}
		if c.Length(p, s, true, MaxKeyword) && c.Plain(p, s) && Fold(s) == "" {
			c.Fail(p, "must contain a letter or a digit")
		}
		out = append(out, s)
	}
	return out
}

// reply reads a reply object.
func reply(o *jsoncheck.Obj) *Reply {
	c := o.C
	typ, ok := o.Str("type", true)
	if !ok {
		o.Skip("text", "buttons", "template")
		return nil
	}
	r := &Reply{Type: typ}
	switch typ {
	case ReplyText:
		r.Text = o.Text("text", true, MaxText)
		o.Forbid("buttons", `is only allowed on a "buttons" reply`)
		o.Forbid("template", `is only allowed on a "template" reply`)
	case ReplyButtons:
		r.Text = o.Text("text", true, MaxButtonBody)
		r.Buttons = buttons(o)
		o.Forbid("template", `is only allowed on a "template" reply`)
	case ReplyTemplate:
		o.Forbid("text", `is not allowed on a "template" reply (the template holds the text)`)
		o.Forbid("buttons", `is not allowed on a "template" reply (the template holds the buttons)`)
		r.Template = template(o)
	default:
		c.Fail(o.At("type"), "must be one of text, buttons, template")
		o.Skip("text", "buttons", "template")
	}
	return r
}

// buttons reads the reply buttons of a buttons reply.
func buttons(o *jsoncheck.Obj) []Button {
	c := o.C
	items, ok := o.List("buttons", true)
	if !ok {
		return nil
	}
	path := o.At("buttons")
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 button")
	}
	out := make([]Button, 0, len(items))
	ids := map[string]int{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		if i == MaxButtons {
			c.Fail(p, "is one button too many: at most %d are allowed", MaxButtons)
		}
		bo := c.Object(p, raw)
		if bo == nil {
			continue
		}
		bt := Button{
			ID:    bo.Text("id", true, MaxButtonID),
			Title: bo.Text("title", true, MaxButtonTitle),
		}
		c.Plain(bo.At("id"), bt.ID)
		c.Plain(bo.At("title"), bt.Title)
		if j, dup := ids[bt.ID]; dup && bt.ID != "" {
			c.Fail(bo.At("id"), "duplicates the id of %s", jsoncheck.Index(path, j))
		} else {
			ids[bt.ID] = i
		}
		bo.Done()
		out = append(out, bt)
	}
	return out
}

// template checks a template reply's template object with the rules of
// POST /v1/messages and returns outbound's canonical form of it.
func template(o *jsoncheck.Obj) json.RawMessage {
	c := o.C
	raw, ok := o.Take("template")
	if !ok {
		c.Fail(o.At("template"), "is required")
		return nil
	}
	body := make([]byte, 0, len(raw)+64)
	body = append(body, `{"to":"5511999999999","type":"template","template":`...)
	body = append(body, raw...)
	body = append(body, '}')
	req, err := outbound.Parse(body)
	if err == nil {
		return req.Content
	}
	e, ok := apperr.As(err)
	if !ok || len(e.Details) == 0 {
		c.Fail(o.At("template"), "cannot be read: %v", err)
		return nil
	}
	for _, d := range e.Details {
		field := o.At("template")
		if rest, ok := strings.CutPrefix(d.Field, "template"); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			field += rest
		}
		c.Fail(field, "%s", d.Issue)
	}
	return nil
}
