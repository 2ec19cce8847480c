package shopconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

// Store keeps the settings.
type Store interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
	PutIntegration(ctx context.Context, in store.Integration) (store.Integration, bool, error)
	DeleteIntegration(ctx context.Context, org, platform string) (store.Integration, error)
}

// SecretStore keeps the webhook secrets.
type SecretStore interface {
	Get(ctx context.Context, orgID, provider string, v any) error
	Put(ctx context.Context, orgID, provider string, v any) error
}

// SecretDeleter deletes secrets.
type SecretDeleter interface {
	Delete(ctx context.Context, orgID, provider string) error
}

// Configure saves an organisation's settings for platform from a PUT body:
// validated; the webhook secret required the first time and kept when left
// out later (a new one keeps the previous one valid for RotationGrace); the
// source claimed uniquely (409 naming the field). created says whether the
// integration is new.
func Configure(ctx context.Context, st Store, sec SecretStore, org, platform string, body []byte, now time.Time) (Settings, Secret, bool, error) {
	s, newSecret, err := Parse(platform, body)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	s.OrgID = org
	cur, err := currentSecret(ctx, sec, org, platform)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	if newSecret == "" && cur.WebhookSecret == "" {
		return Settings{}, Secret{}, false, apperr.Field("webhook_secret", "is required when the integration is first configured")
	}
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	saved, created, err := st.PutIntegration(ctx, store.Integration{OrgID: org, Platform: platform, Source: s.Source, SourceKey: s.SourceKey, Config: cfg})
	if errors.Is(err, store.ErrSourceTaken) {
		return Settings{}, Secret{}, false, store.OwnershipConflict(err)
	}
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	next, changed := cur.rotate(newSecret, now)
	if changed {
		if err := sec.Put(ctx, org, Provider(platform), next); err != nil {
			return Settings{}, Secret{}, false, err
		}
	}
	s.CreatedAt, s.UpdatedAt = saved.CreatedAt, saved.UpdatedAt
	return s, next, created, nil
}

func currentSecret(ctx context.Context, sec SecretStore, org, platform string) (Secret, error) {
	var cur Secret
	err := sec.Get(ctx, org, Provider(platform), &cur)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Secret{}, err
	}
	return cur, nil
}

// Load reads an organisation's settings for platform (NotFound when none).
func Load(ctx context.Context, st interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
}, org, platform string) (Settings, error) {
	it, err := st.Integration(ctx, org, platform)
	if err != nil {
		return Settings{}, err
	}
	s := Settings{OrgID: org, Platform: platform, Source: it.Source, SourceKey: it.SourceKey, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	if err := json.Unmarshal(it.Config, &s.Config); err != nil {
		return Settings{}, fmt.Errorf("integrations: decode %s settings of %s: %w", platform, org, err)
	}
	if s.Triggers == nil {
		s.Triggers = map[string]Trigger{}
	}
	return s, nil
}

// Get reads an organisation's settings and secret for platform.
func Get(ctx context.Context, st Store, sec SecretStore, org, platform string) (Settings, Secret, error) {
	s, err := Load(ctx, st, org, platform)
	if err != nil {
		return Settings{}, Secret{}, err
	}
	cur, err := currentSecret(ctx, sec, org, platform)
	return s, cur, err
}

// Delete removes an organisation's settings for platform, the source's
// lookup item and the secret. The secret is deleted even when the settings
// are already gone (a retried DELETE cleans up after a failed one).
func Delete(ctx context.Context, st Store, sec SecretDeleter, org, platform string) error {
	_, err := st.DeleteIntegration(ctx, org, platform)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	if sec != nil {
		if derr := sec.Delete(ctx, org, Provider(platform)); derr != nil {
			return derr
		}
	}
	return err
}
