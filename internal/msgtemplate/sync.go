package msgtemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/store"
)

// Lister reads a WABA's templates from Meta (graph.Client).
type Lister interface {
	ListTemplates(ctx context.Context, version, wabaID, token, after string, limit int) (graph.TemplatePage, error)
}

// Syncer records Meta's list as the organisation's copy (store.Store).
type Syncer interface {
	SyncTemplates(ctx context.Context, org string, list []store.Template) ([]store.TemplateChange, error)
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// Paging of a sync: Meta's pages of 100, up to 70 of them (a WABA has at
// most 6,000 templates).
const (
	syncPageSize = 100
	syncMaxPages = 70
)

// Account is what a sync needs of the organisation's connection.
type Account struct {
	OrgID, WABAID, Version, Token string
}

// SyncResult is what a sync found.
type SyncResult struct {
	Count   int
	Changes []store.TemplateChange
}

// Sync pulls every template of the organisation's WABA (following Meta's
// cursors), records the list as the organisation's copy and publishes
// template.status_updated (source "sync") for each template whose status
// changed, appeared or disappeared. Nothing is recorded unless every page
// was read.
func Sync(ctx context.Context, g Lister, st Syncer, pub Publisher, a Account, now time.Time) (SyncResult, error) {
	var list []store.Template
	after := ""
	for page := 0; ; page++ {
		if page == syncMaxPages {
			return SyncResult{}, fmt.Errorf("msgtemplate: more than %d pages of templates", syncMaxPages)
		}
		p, err := g.ListTemplates(ctx, a.Version, a.WABAID, a.Token, after, syncPageSize)
		if err != nil {
			return SyncResult{}, err
		}
		for _, raw := range p.Templates {
			t, err := Decode(raw)
			if err != nil {
				return SyncResult{}, err
			}
			list = append(list, t)
		}
		if p.After == "" {
			break
		}
		after = p.After
	}
	changes, err := st.SyncTemplates(ctx, a.OrgID, list)
	if err != nil {
		return SyncResult{}, err
	}
	var evs []event.Event
	for _, c := range changes {
		status := c.Template.Status
		if c.Removed {
			status = StatusDeleted
		}
		if status == c.PreviousStatus {
			continue
		}
		t := c.Template
		t.Status = status
		ev, err := event.New(event.StableID(a.OrgID, event.TemplateStatusUpdated, "sync:"+t.ID+":"+t.Language+":"+status+":"+now.UTC().Format(time.RFC3339Nano)),
			event.TemplateStatusUpdated, a.OrgID, now, event.TemplateStatusData(t, c.PreviousStatus, t.Reason, "sync"))
		if err != nil {
			return SyncResult{}, err
		}
		evs = append(evs, ev)
	}
	if len(evs) > 0 {
		if err := pub.Publish(ctx, evs...); err != nil {
			return SyncResult{}, err
		}
	}
	return SyncResult{Count: len(list), Changes: changes}, nil
}

// metaTemplate is one template of Meta's list.
type metaTemplate struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Status          string          `json:"status"`
	Category        string          `json:"category"`
	ParameterFormat string          `json:"parameter_format"`
	Components      json.RawMessage `json:"components"`
	RejectedReason  string          `json:"rejected_reason"`
	QualityScore    struct {
		Score string `json:"score"`
	} `json:"quality_score"`
}

// Decode reads one template of Meta's list.
func Decode(raw json.RawMessage) (store.Template, error) {
	var m metaTemplate
	if err := json.Unmarshal(raw, &m); err != nil {
		return store.Template{}, fmt.Errorf("msgtemplate: read Meta's template: %w", err)
	}
	if m.Name == "" || m.Language == "" {
		return store.Template{}, fmt.Errorf("msgtemplate: Meta listed a template without a name or language")
	}
	t := store.Template{ID: m.ID, Name: m.Name, Language: m.Language, Status: strings.ToUpper(m.Status),
		Category: strings.ToUpper(m.Category), ParameterFormat: strings.ToLower(m.ParameterFormat), Quality: m.QualityScore.Score}
	if m.RejectedReason != "" && m.RejectedReason != "NONE" {
		t.Reason = m.RejectedReason
	}
	if len(m.Components) > 0 && string(m.Components) != "null" {
		var c bytes.Buffer
		if err := json.Compact(&c, m.Components); err != nil {
			return store.Template{}, fmt.Errorf("msgtemplate: read Meta's template components: %w", err)
		}
		t.Components = json.RawMessage(c.Bytes())
	}
	return t, nil
}
