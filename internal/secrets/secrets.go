// Package secrets keeps organisations' provider credentials in AWS Secrets
// Manager, one JSON secret per organisation and provider under the stage's
// prefix (pytake/<stage>/org/<org>/<provider>), cached in memory with a TTL
// across warm invocations. Values are never logged.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
)

// API is the part of the Secrets Manager client used here.
type API interface {
	GetSecretValue(ctx context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error)
	CreateSecret(ctx context.Context, in *awsapi.CreateSecretInput) error
	PutSecretValue(ctx context.Context, in *awsapi.PutSecretValueInput) error
}

var _ API = (*awsapi.SecretsManager)(nil)

// Store reads and writes JSON secrets with a read cache.
type Store struct {
	api    API
	prefix string
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	value   []byte
	expires time.Time
}

// New returns a Store for secrets under prefix (e.g. "pytake/dev/").
func New(api API, prefix string, ttl time.Duration, now func() time.Time) *Store {
	return &Store{api: api, prefix: prefix, ttl: ttl, now: now, cache: map[string]entry{}}
}

// Name is the full secret name of an organisation's provider credentials.
func (s *Store) Name(orgID, provider string) string {
	return s.prefix + "org/" + orgID + "/" + provider
}

// Get decodes the organisation's provider secret into v.
func (s *Store) Get(ctx context.Context, orgID, provider string, v any) error {
	name := s.Name(orgID, provider)
	s.mu.Lock()
	e, ok := s.cache[name]
	s.mu.Unlock()
	if !ok || s.now().After(e.expires) {
		out, err := s.api.GetSecretValue(ctx, &awsapi.GetSecretValueInput{SecretID: name})
		if awsapi.HasCode(err, awsapi.ResourceNotFound) {
			// PyTake's one NotFound: apperr's kind (a 404 for the API).
			return apperr.New(apperr.NotFound, "the credentials are not set").WithCause(fmt.Errorf("secrets: get %s: %w", name, err))
		}
		if err != nil {
			return apperr.New(apperr.Unavailable, "the secret store is unavailable, retry").WithCause(fmt.Errorf("secrets: get %s: %w", name, err))
		}
		e = entry{value: []byte(out.SecretString), expires: s.now().Add(s.ttl)}
		s.mu.Lock()
		s.cache[name] = e
		s.mu.Unlock()
	}
	if err := json.Unmarshal(e.value, v); err != nil {
		return fmt.Errorf("secrets: decode %s: %w", name, err)
	}
	return nil
}

// Put writes v as the organisation's provider secret, creating it if needed.
func (s *Store) Put(ctx context.Context, orgID, provider string, v any) error {
	name := s.Name(orgID, provider)
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("secrets: encode %s: %w", name, err)
	}
	err = s.api.PutSecretValue(ctx, &awsapi.PutSecretValueInput{SecretID: name, SecretString: string(b)})
	if awsapi.HasCode(err, awsapi.ResourceNotFound) {
		err = s.api.CreateSecret(ctx, &awsapi.CreateSecretInput{
			Name:         name,
			SecretString: string(b),
			Tags:         []awsapi.Tag{{Key: "pytake:org", Value: orgID}},
		})
	}
	if err != nil {
		return apperr.New(apperr.Unavailable, "the secret store is unavailable, retry").WithCause(fmt.Errorf("secrets: put %s: %w", name, err))
	}
	s.mu.Lock()
	s.cache[name] = entry{value: b, expires: s.now().Add(s.ttl)}
	s.mu.Unlock()
	return nil
}

// Delete removes a secret at once (no recovery window): it belonged to
// something that no longer exists.
func (s *Store) Delete(ctx context.Context, orgID, provider string) error {
	name := s.Name(orgID, provider)
	d, ok := s.api.(interface {
		DeleteSecret(ctx context.Context, in *awsapi.DeleteSecretInput) error
	})
	if !ok {
		return fmt.Errorf("secrets: delete %s: client cannot delete", name)
	}
	err := d.DeleteSecret(ctx, &awsapi.DeleteSecretInput{SecretID: name, ForceDeleteWithoutRecovery: true})
	if err != nil && !awsapi.HasCode(err, awsapi.ResourceNotFound) {
		return apperr.New(apperr.Unavailable, "the secret store is unavailable, retry").WithCause(fmt.Errorf("secrets: delete %s: %w", name, err))
	}
	s.Forget(orgID, provider)
	return nil
}

// Forget drops a cached secret (after it is known to be stale).
func (s *Store) Forget(orgID, provider string) {
	s.mu.Lock()
	delete(s.cache, s.Name(orgID, provider))
	s.mu.Unlock()
}

// WhatsApp is an organisation's WhatsApp Cloud API credentials.
type WhatsApp struct {
	PhoneNumberID   string `json:"phone_number_id"`
	AccessToken     string `json:"access_token"`
	AppSecret       string `json:"app_secret"`
	VerifyToken     string `json:"verify_token"`
	WABAID          string `json:"waba_id,omitempty"`
	GraphAPIVersion string `json:"graph_api_version,omitempty"`
}

// WebhookSecrets are a webhook subscription's signing secrets, newest
// first; a rotated-out secret keeps signing until ExpiresAt.
type WebhookSecrets struct {
	Secrets []SigningSecret `json:"secrets"`
	// Version is the webhook item's secret_version when these were
	// written: a reader holding a lower version than the item's re-reads.
	Version int `json:"version,omitempty"`
}

// SigningSecret is one signing secret: a generated whsec_ secret or one
// the integrator chose.
type SigningSecret struct {
	Secret    string     `json:"secret"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Active are the secrets still signing at now, newest first.
func (w WebhookSecrets) Active(now time.Time) []SigningSecret {
	var out []SigningSecret
	for _, s := range w.Secrets {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s)
		}
	}
	return out
}

// ProviderWebhook names a webhook subscription's signing secrets.
func ProviderWebhook(webhookID string) string { return "webhooks/" + webhookID }

// ProviderWhatsApp names the WhatsApp credentials secret.
const ProviderWhatsApp = "whatsapp"
