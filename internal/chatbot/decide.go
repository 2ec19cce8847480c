package chatbot

import (
	"slices"
	"strings"
)

// Inbound is what the runtime knows about one customer message.
type Inbound struct {
	Type string // Meta's message type: text, interactive, button, image, ...
	Text string // the text body, or a media caption
	// ReplyID is the id of the button or list row the customer tapped
	// (interactive button_reply.id / list_reply.id), or the payload of a
	// template quick-reply button.
	ReplyID string
	// ReplyTitle is the title of what was tapped; keywords match it as
	// they match Text.
	ReplyTitle string
}

// The reasons of a Decision.
const (
	ReasonWelcome  = "welcome"  // the welcome message opened a conversation
	ReasonRule     = "rule"     // RuleID matched
	ReasonFallback = "fallback" // nothing matched; the fallback reply
	ReasonNone     = "none"     // nothing matched and there is no fallback, or the message is not one to answer
	ReasonInactive = "inactive" // the bot is switched off
)

// Decision is what a bot does for one inbound message: send Reply (when not
// nil) and/or hand the conversation to a person.
type Decision struct {
	Reply   *Reply // a copy; the caller may keep or change it
	Handoff bool
	RuleID  string // the rule that matched, when Reason is "rule"
	Reason  string
}

// ignoredTypes are inbound messages a bot never answers: a customer's
// reaction to a message, and Meta's system notices (a customer changed
// number). Answering them with the fallback would be noise.
var ignoredTypes = []string{"reaction", "system"}

// Decide says what bot b does for the inbound message in;
// newConversation is true when in opened a conversation.
//
// A rule matches when its match is
//   - keywords: one of them, folded (see Fold), occurs as whole words in the
//     folded text or the folded reply title ("ola" matches "Olá!" but not
//     "bolacha"; "2a via" matches "Quero a 2ª via");
//   - reply_id: it equals in.ReplyID exactly;
//   - any: always.
//
// On a new conversation the first matching keyword or reply_id rule wins;
// without one, the welcome message (when set) is the reply. Otherwise the
// first matching rule in order decides (its reply and its handoff), and
// when none matches the fallback is sent, or nothing (Reason "none"). At
// most one reply is sent per inbound message. An inactive bot does nothing
// (Reason "inactive"); reactions and system messages get no answer (Reason
// "none").
func Decide(b Bot, in Inbound, newConversation bool) Decision {
	if !b.Active {
		return Decision{Reason: ReasonInactive}
	}
	if slices.Contains(ignoredTypes, in.Type) {
		return Decision{Reason: ReasonNone}
	}
	m := matcher{text: Fold(in.Text), title: Fold(in.ReplyTitle), replyID: in.ReplyID}
	if newConversation {
		for _, r := range b.Rules {
			if !r.Match.Any && m.matches(r.Match) {
				return ruleDecision(r)
			}
		}
		if strings.TrimSpace(b.WelcomeMessage) != "" {
			return Decision{Reply: &Reply{Type: ReplyText, Text: b.WelcomeMessage}, Reason: ReasonWelcome}
		}
	}
	for _, r := range b.Rules {
		if m.matches(r.Match) {
			return ruleDecision(r)
		}
	}
	if b.Fallback != nil {
		return Decision{Reply: b.Fallback.clone(), Reason: ReasonFallback}
	}
	return Decision{Reason: ReasonNone}
}

func ruleDecision(r Rule) Decision {
	return Decision{Reply: r.Reply.clone(), Handoff: r.Handoff, RuleID: r.ID, Reason: ReasonRule}
}

// matcher holds one inbound message, folded once.
type matcher struct {
	text, title string // folded
	replyID     string
}

func (m matcher) matches(x Match) bool {
	switch {
	case x.Any:
		return true
	case x.ReplyID != "":
		return x.ReplyID == m.replyID
	}
	for _, k := range x.Keywords {
		kw := Fold(k)
		if containsPhrase(m.text, kw) || containsPhrase(m.title, kw) {
			return true
		}
	}
	return false
}

// clone copies r deeply enough that changing the copy leaves r alone; nil
// stays nil.
func (r *Reply) clone() *Reply {
	if r == nil {
		return nil
	}
	c := *r
	c.Buttons = slices.Clone(r.Buttons)
	c.Template = slices.Clone(r.Template)
	return &c
}
