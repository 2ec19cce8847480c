// Package secretstest is an in-memory stand-in for secrets.Store for tests
// of the packages that read or write organisations' secrets. Like Secrets
// Manager it keeps each secret as a JSON document per organisation and
// provider, and a missing secret is the same NotFound error the real store
// returns (apperr.NotFound).
package secretstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pytake/pytake/internal/apperr"
)

// Store holds secrets in memory; the zero value is not usable, use New.
type Store struct {
	mu     sync.Mutex
	m      map[string][]byte
	gets   int
	forgot int
}

// New returns an empty store.
func New() *Store { return &Store{m: map[string][]byte{}} }

func key(orgID, provider string) string { return orgID + "/" + provider }

// Get decodes the organisation's provider secret into v.
func (s *Store) Get(_ context.Context, orgID, provider string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	b, ok := s.m[key(orgID, provider)]
	if !ok {
		return apperr.New(apperr.NotFound, "the credentials are not set")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("secretstest: decode %s: %w", key(orgID, provider), err)
	}
	return nil
}

// Put stores v as the organisation's provider secret.
func (s *Store) Put(_ context.Context, orgID, provider string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("secretstest: encode %s: %w", key(orgID, provider), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key(orgID, provider)] = b
	return nil
}

// Delete removes a secret; a missing one is not an error.
func (s *Store) Delete(_ context.Context, orgID, provider string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key(orgID, provider))
	return nil
}

// Forget counts a cache drop (there is no cache to drop).
func (s *Store) Forget(string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgot++
}

// Set stores v as a secret for a test's setup; it panics if v does not
// encode, which is a mistake in the test.
func (s *Store) Set(orgID, provider string, v any) {
	if err := s.Put(context.Background(), orgID, provider, v); err != nil {
		panic(err)
	}
}

// Has says whether a secret exists.
func (s *Store) Has(orgID, provider string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[key(orgID, provider)]
	return ok
}

// Gets is how many times Get was called.
func (s *Store) Gets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

// Forgotten is how many times Forget was called.
func (s *Store) Forgotten() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forgot
}

// Len is how many secrets are stored.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
