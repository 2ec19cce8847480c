package msgtemplate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

// Copy is the organisation's copy of its templates (store.Store).
type Copy interface {
	TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error)
	Template(ctx context.Context, org, name, language string) (store.Template, error)
	TemplatesNamed(ctx context.Context, org, name string) ([]store.Template, error)
}

var _ Copy = (*store.Store)(nil)

// FromStore is a stored template as a definition; known is false when the
// copy has no components for it (recorded from a status webhook only).
func FromStore(t store.Template) (d Definition, known bool, err error) {
	d = Definition{ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status, ParameterFormat: t.ParameterFormat}
	if len(t.Components) == 0 {
		return d, false, nil
	}
	if err := json.Unmarshal(t.Components, &d.Components); err != nil {
		return d, false, fmt.Errorf("msgtemplate: read stored components of %s/%s: %w", t.Name, t.Language, err)
	}
	return d, true, nil
}

// CheckSend checks a template message (outbound's canonical template
// object) against the organisation's copy: nothing is checked while the
// copy has never been synced (the send goes to Meta as it is); otherwise an
// unknown name or language is 422 template_not_found, a template that is
// not APPROVED 422 template_not_approved, and parameters that do not fit
// its components 422 template_parameter_mismatch.
func CheckSend(ctx context.Context, c Copy, org string, content json.RawMessage) error {
	_, err := CheckSendTemplate(ctx, c, org, content)
	return err
}

// CheckSendTemplate is CheckSend that also answers the template checked
// (its category: MARKETING, UTILITY, AUTHENTICATION), or a zero Template
// when the copy has never been synced.
func CheckSendTemplate(ctx context.Context, c Copy, org string, content json.RawMessage) (store.Template, error) {
	synced, err := c.TemplatesSyncedAt(ctx, org)
	if err != nil || synced == nil {
		return store.Template{}, err
	}
	s, err := ParseSent(content)
	if err != nil {
		return store.Template{}, err
	}
	t, err := c.Template(ctx, org, s.Name, s.Language.Code)
	if apperr.Is(err, apperr.NotFound) {
		others, lerr := c.TemplatesNamed(ctx, org, s.Name)
		if lerr != nil {
			return store.Template{}, lerr
		}
		langs := make([]string, 0, len(others))
		for _, o := range others {
			langs = append(langs, o.Language)
		}
		return store.Template{}, NotFound(s.Name, s.Language.Code, langs)
	}
	if err != nil {
		return store.Template{}, err
	}
	d, known, err := FromStore(t)
	if err != nil {
		return t, err
	}
	if !known {
		// Only the status is known: check that much.
		if !Sendable(d.Status) {
			return t, Check(d, s)
		}
		return t, nil
	}
	return t, Check(d, s)
}
