package crmsync

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// resolvedData is conversation.resolved's data.
type resolvedData struct {
	Conversation   event.ConversationView `json:"conversation"`
	Contact        event.ContactView      `json:"contact"`
	ResolutionTime int64                  `json:"resolution_time"`
	Satisfaction   *int                   `json:"satisfaction"`
}

func jsonData(ev event.Event, v any) error {
	if err := json.Unmarshal(ev.Data, v); err != nil {
		return fmt.Errorf("crm: %s data: %w", ev.Event, err)
	}
	return nil
}

// Summary is a resolved conversation as a note or Task shows it.
type Summary struct {
	Messages       int
	First, Last    string
	ResolutionTime time.Duration
	Satisfaction   *int
	ResolvedAt     time.Time
}

// maxPages bounds the read of a long conversation's messages (for its last one).
const maxPages = 20

func (s *Syncer) summary(ctx context.Context, org string, d resolvedData) (Summary, error) {
	sum := Summary{ResolutionTime: time.Duration(d.ResolutionTime) * time.Second, Satisfaction: d.Satisfaction, ResolvedAt: s.Now()}
	conv, err := s.Store.Conversation(ctx, org, d.Conversation.ID)
	if err != nil {
		return sum, err
	}
	sum.Messages = conv.MessageCount
	if conv.ResolvedAt != nil {
		sum.ResolvedAt = *conv.ResolvedAt
	}
	cursor := ""
	for page := 0; page < maxPages; page++ {
		p, err := s.Store.ConversationMessages(ctx, org, conv.ID, cursor, 100)
		if err != nil {
			return sum, err
		}
		for _, m := range p.Items {
			line := describe(m)
			if sum.First == "" {
				sum.First = line
			}
			sum.Last = line
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	return sum, nil
}

// describe is one message in one line: who, and its text or type.
func describe(m store.Message) string {
	who := "Customer"
	if m.Direction == store.Outbound {
		who = "Business"
	}
	var c struct {
		Text any    `json:"text"`
		Body string `json:"body"`
	}
	_ = json.Unmarshal(m.Content, &c)
	text := c.Body
	switch t := c.Text.(type) {
	case string:
		text = t
	case map[string]any:
		if b, ok := t["body"].(string); ok {
			text = b
		}
	}
	if text == "" {
		text = "[" + m.Type + "]"
	}
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	return who + ": " + text
}

func (s Summary) lines() []string {
	sat := "not given"
	if s.Satisfaction != nil {
		sat = fmt.Sprintf("%d/5", *s.Satisfaction)
	}
	return []string{
		"WhatsApp conversation resolved",
		fmt.Sprintf("Messages: %d", s.Messages),
		"First message: " + s.First,
		"Last message: " + s.Last,
		"Resolution time: " + s.ResolutionTime.String(),
		"Satisfaction: " + sat,
	}
}

// Text is the summary as plain text (a Task's Description).
func (s Summary) Text() string { return strings.Join(s.lines(), "\n") }

// HTML is the summary as a HubSpot note body (HTML, escaped).
func (s Summary) HTML() string {
	ls := s.lines()
	for i := range ls {
		ls[i] = html.EscapeString(ls[i])
	}
	return "<p><strong>" + ls[0] + "</strong><br>" + strings.Join(ls[1:], "<br>") + "</p>"
}
