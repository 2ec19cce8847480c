package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Template is the organisation's copy of one of its WABA's message
// templates (one name in one language), as Meta last described it.
type Template struct {
	OrgID           string `json:"-"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	Language        string `json:"language"`
	Category        string `json:"category"`
	Status          string `json:"status"`
	ParameterFormat string `json:"parameter_format,omitempty"`
	Quality         string `json:"quality_score,omitempty"`
	Reason          string `json:"rejected_reason,omitempty"`
	// Components are Meta's components; nil when PyTake only knows the
	// template from a status webhook (not synced since).
	Components json.RawMessage `json:"components"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// TemplateChange is one difference a sync or a webhook found.
type TemplateChange struct {
	Template       Template
	PreviousStatus string // "" for a template new to the copy
	Removed        bool   // gone from Meta's list
}

type templateItem struct {
	key
	Type            string `dynamodbav:"type"`
	OrgID           string `dynamodbav:"org_id"`
	ID              string `dynamodbav:"id,omitempty"`
	Name            string `dynamodbav:"name"`
	Language        string `dynamodbav:"language"`
	Category        string `dynamodbav:"category,omitempty"`
	Status          string `dynamodbav:"status"`
	ParameterFormat string `dynamodbav:"parameter_format,omitempty"`
	Quality         string `dynamodbav:"quality,omitempty"`
	Reason          string `dynamodbav:"reason,omitempty"`
	Components      string `dynamodbav:"components,omitempty"`
	UpdatedAt       string `dynamodbav:"updated_at"`
}

func (it templateItem) model() Template {
	t := Template{OrgID: it.OrgID, ID: it.ID, Name: it.Name, Language: it.Language, Category: it.Category, Status: it.Status,
		ParameterFormat: it.ParameterFormat, Quality: it.Quality, Reason: it.Reason, UpdatedAt: mustTime(it.UpdatedAt)}
	if it.Components != "" {
		t.Components = json.RawMessage(it.Components)
	}
	return t
}

func (s *Store) templateItem(t Template) templateItem {
	return templateItem{key: key{templatesPK(t.OrgID), templateSK(t.Name, t.Language)}, Type: typeTemplate, OrgID: t.OrgID,
		ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status, ParameterFormat: t.ParameterFormat,
		Quality: t.Quality, Reason: t.Reason, Components: string(t.Components), UpdatedAt: timestamp(t.UpdatedAt)}
}

type templateSyncItem struct {
	key
	Type     string `dynamodbav:"type"`
	SyncedAt string `dynamodbav:"synced_at"`
	Count    int    `dynamodbav:"count"`
}

// TemplateFilter narrows a template listing.
type TemplateFilter struct {
	Name, Language, Status, Category string
}

// Templates lists the organisation's copy, by name then language; the name
// narrows the query, the other filters the page (which may then hold fewer
// than limit templates).
func (s *Store) Templates(ctx context.Context, org string, f TemplateFilter, cursor string, limit int) (Page[Template], error) {
	prefix := templateSKPrefix
	if f.Name != "" {
		prefix = templateSK(f.Name, "")
	}
	keep := func(it templateItem) bool {
		return (f.Language == "" || it.Language == f.Language) && (f.Status == "" || it.Status == f.Status) &&
			(f.Category == "" || it.Category == f.Category)
	}
	return queryModels[templateItem](ctx, s, keyPrefix("", templatesPK(org), prefix, cursor, limit, true), keep)
}

// TemplatesNamed lists every language of a template name (at most 100).
func (s *Store) TemplatesNamed(ctx context.Context, org, name string) ([]Template, error) {
	p, err := s.Templates(ctx, org, TemplateFilter{Name: name}, "", 100)
	return p.Items, err
}

// Template reads one template of the copy; NotFound when the copy has no
// such name and language.
func (s *Store) Template(ctx context.Context, org, name, language string) (Template, error) {
	return getModel[templateItem](ctx, s, key{templatesPK(org), templateSK(name, language)},
		apperr.New(apperr.NotFound, "no such template"))
}

// TemplatesSyncedAt says when the organisation's copy was last synced with
// Meta (nil: never, and template sends are not checked).
func (s *Store) TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error) {
	var it templateSyncItem
	found, err := s.getItem(ctx, key{templatesPK(org), templateSyncSK()}, &it)
	if err != nil || !found {
		return nil, err
	}
	return parseTime(it.SyncedAt), nil
}

// PutTemplate records one template (a creation's answer, a webhook's
// update).
func (s *Store) PutTemplate(ctx context.Context, t Template) error {
	av, err := marshal(s.templateItem(t))
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return unavailable("put template", err)
	}
	return nil
}

// RecordCreatedTemplate records a template Meta has just created (its id
// and PENDING). Meta's review webhook may have beaten it here: then the
// status the webhook recorded stays, and only what the webhook could not
// say (components, parameter format, category when missing) is added.
func (s *Store) RecordCreatedTemplate(ctx context.Context, t Template) error {
	av, err := marshal(s.templateItem(t))
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, putInput(s.table, av, "attribute_not_exists(pk)"))
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return unavailable("put template", err)
	}
	update := "SET components = :c, updated_at = :u, category = if_not_exists(category, :cat), id = if_not_exists(id, :id)"
	vals := map[string]types.AttributeValue{":c": str(string(t.Components)), ":u": str(timestamp(t.UpdatedAt)),
		":cat": str(t.Category), ":id": str(t.ID)}
	if t.ParameterFormat != "" {
		update += ", parameter_format = :pf"
		vals[":pf"] = str(t.ParameterFormat)
	}
	if _, err := s.db.UpdateItem(ctx, updateInput(s.table, key{templatesPK(t.OrgID), templateSK(t.Name, t.Language)}, update, "", vals)); err != nil {
		return unavailable("update template", err)
	}
	return nil
}

// DeleteTemplates removes a name's templates from the copy (one language
// when language is given).
func (s *Store) DeleteTemplates(ctx context.Context, org, name, language string) error {
	var langs []string
	if language != "" {
		langs = []string{language}
	} else {
		all, err := s.TemplatesNamed(ctx, org, name)
		if err != nil {
			return err
		}
		for _, t := range all {
			langs = append(langs, t.Language)
		}
	}
	for _, l := range langs {
		if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
			Key: key{templatesPK(org), templateSK(name, l)}.av()}); err != nil {
			return unavailable("delete template", err)
		}
	}
	return nil
}

// SyncTemplates makes the copy Meta's list: templates new or changed are
// written, those Meta no longer lists are removed, and the sync is
// recorded (from then on template sends are checked). It returns what
// changed (status, category, quality or components).
func (s *Store) SyncTemplates(ctx context.Context, org string, list []Template) ([]TemplateChange, error) {
	old := map[string]Template{}
	cursor := ""
	for {
		p, err := s.Templates(ctx, org, TemplateFilter{}, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, t := range p.Items {
			old[templateSK(t.Name, t.Language)] = t
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	now := s.now()
	var (
		changes []TemplateChange
		writes  []func(context.Context) error
		stale   []bool // per change: the item changed since it was read (a webhook, a creation), left as it is
	)
	seen := map[string]bool{}
	for _, t := range list {
		t.OrgID = org
		k := templateSK(t.Name, t.Language)
		if seen[k] {
			continue
		}
		seen[k] = true
		prev, had := old[k]
		if had && sameTemplate(prev, t) {
			continue
		}
		t.UpdatedAt = now
		ch := TemplateChange{Template: t}
		if had {
			ch.PreviousStatus = prev.Status
		}
		i := len(changes)
		changes = append(changes, ch)
		writes = append(writes, func(ctx context.Context) error {
			av, err := marshal(s.templateItem(t))
			if err != nil {
				return err
			}
			in := putInput(s.table, av, "attribute_not_exists(pk)")
			switch {
			case had && prev.UpdatedAt.IsZero():
				in = putInput(s.table, av, "") // an item without its time: Meta's list wins
			case had:
				in = putInput(s.table, av, "updated_at = :seen")
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": str(timestamp(prev.UpdatedAt))}
			}
			_, err = s.db.PutItem(ctx, in)
			return s.syncWrote(&stale[i], "put template", err)
		})
	}
	for k, t := range old {
		if seen[k] {
			continue
		}
		i := len(changes)
		changes = append(changes, TemplateChange{Template: t, PreviousStatus: t.Status, Removed: true})
		writes = append(writes, func(ctx context.Context) error {
			in := &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key{templatesPK(org), k}.av()}
			if !t.UpdatedAt.IsZero() {
				in.ConditionExpression = aws.String("updated_at = :seen")
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": str(timestamp(t.UpdatedAt))}
			}
			_, err := s.db.DeleteItem(ctx, in)
			return s.syncWrote(&stale[i], "delete template", err)
		})
	}
	// A first sync of a large WABA writes thousands of items: a few at a
	// time, so that it fits an API request's time.
	stale = make([]bool, len(changes))
	if err := parallel(ctx, syncWriters, writes); err != nil {
		return nil, err
	}
	kept := changes[:0]
	for i, c := range changes {
		if !stale[i] {
			kept = append(kept, c)
		}
	}
	changes = kept
	av, err := marshal(templateSyncItem{key: key{templatesPK(org), templateSyncSK()}, Type: typeTemplateSync,
		SyncedAt: timestamp(now), Count: len(seen)})
	if err != nil {
		return nil, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return nil, unavailable("record template sync", err)
	}
	return changes, nil
}

// syncWrote reads a sync write's result: a failed condition means a
// webhook or a creation changed the item after the sync read the copy,
// which is newer than Meta's list (fetched before): the item stays and
// the change is not reported (the next sync compares again).
func (s *Store) syncWrote(stale *bool, op string, err error) error {
	if isConditionFailed(err) {
		*stale = true
		return nil
	}
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

func sameTemplate(a, b Template) bool {
	return a.ID == b.ID && a.Status == b.Status && a.Category == b.Category && a.Quality == b.Quality &&
		a.Reason == b.Reason && a.ParameterFormat == b.ParameterFormat && string(a.Components) == string(b.Components)
}

// TemplateUpdate is what one of Meta's template webhooks says.
type TemplateUpdate struct {
	ID, Name, Language string
	Status             string // message_template_status_update's event
	Reason             string
	Category           string // the template's category (new_category on a category update)
	Quality            string // message_template_quality_update's new_quality_score
}

// UpdateTemplate applies a template webhook to the copy: the template is
// found by name and language (or, for webhooks that carry only the id, by
// id), its status, category, quality or rejection reason set. A template
// the copy does not have is recorded from what the webhook says (without
// components: sends of it are then checked only for its status), except
// a DELETED one, which is reported and not written. It
// returns the template after the update and its status before; changed is
// false when the webhook repeats what the copy already says (a redelivery).
func (s *Store) UpdateTemplate(ctx context.Context, org string, u TemplateUpdate) (t Template, previousStatus string, changed bool, err error) {
	if u.Name == "" || u.Language == "" {
		found, err := s.templateByID(ctx, org, u.ID)
		if err != nil {
			return Template{}, "", false, err
		}
		u.Name, u.Language = found.Name, found.Language
	}
	k := key{templatesPK(org), templateSK(u.Name, u.Language)}
	var it templateItem
	had, err := s.getItem(ctx, k, &it)
	if err != nil {
		return Template{}, "", false, err
	}
	if !had {
		it = s.templateItem(Template{OrgID: org, ID: u.ID, Name: u.Name, Language: u.Language, Status: ""})
		if u.Status == "DELETED" {
			// Deleted from the copy already (DELETE /v1/templates, a
			// sync): the deletion is news, not a template to keep.
			it.Status, it.Category = u.Status, u.Category
			it.UpdatedAt = timestamp(s.now())
			return it.model(), "", true, nil
		}
	}
	before := it
	if u.ID != "" {
		it.ID = u.ID
	}
	if u.Status != "" {
		it.Status = u.Status
		it.Reason = ""
		if u.Reason != "" && u.Reason != "NONE" {
			it.Reason = u.Reason
		}
	}
	if u.Category != "" {
		it.Category = u.Category
	}
	if u.Quality != "" {
		it.Quality = u.Quality
	}
	if had && it.model().sameAs(before.model()) {
		return it.model(), before.Status, false, nil
	}
	it.UpdatedAt = timestamp(s.now())
	av, err := marshal(it)
	if err != nil {
		return Template{}, "", false, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return Template{}, "", false, unavailable("update template", err)
	}
	return it.model(), before.Status, true, nil
}

func (t Template) sameAs(o Template) bool { return sameTemplate(t, o) }

// templateByID finds a template of the copy by Meta's id (a scan of the
// organisation's copy: webhooks name the template, this is the fallback).
func (s *Store) templateByID(ctx context.Context, org, id string) (Template, error) {
	cursor := ""
	for id != "" {
		p, err := s.Templates(ctx, org, TemplateFilter{}, cursor, 100)
		if err != nil {
			return Template{}, err
		}
		for _, t := range p.Items {
			if t.ID == id {
				return t, nil
			}
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	return Template{}, apperr.New(apperr.NotFound, fmt.Sprintf("no template with id %q", id))
}

// syncWriters bounds a sync's concurrent writes.
const syncWriters = 8
