package tenant

import (
	"context"
	"fmt"

	"github.com/pytake/pytake/internal/store"
)

// OrganizationStore is the part of the store creating an organisation needs.
type OrganizationStore interface {
	CreateOrganization(ctx context.Context, name string) (store.Organization, error)
	IssueKey(ctx context.Context, orgID, name, mode string, scopes ...string) (store.APIKey, string, error)
}

// Result is printed once: the key's plaintext is never stored.
type Result struct {
	Organization store.Organization `json:"organization"`
	APIKey       Key                `json:"api_key"`
}

// Key is the first API key.
type Key struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Mode   string   `json:"mode"`
	Key    string   `json:"key"`
	Prefix string   `json:"prefix"`
	Scopes []string `json:"scopes"`
}

// CreateOrganization creates an organisation and issues its first key (live
// or test), which holds every scope, admin included.
func CreateOrganization(ctx context.Context, st OrganizationStore, name, mode string) (Result, error) {
	org, err := st.CreateOrganization(ctx, name)
	if err != nil {
		return Result{}, fmt.Errorf("create organization: %w", err)
	}
	k, plain, err := st.IssueKey(ctx, org.ID, "Initial key", mode)
	if err != nil {
		return Result{}, fmt.Errorf("issue api key for %s: %w", org.ID, err)
	}
	return Result{Organization: org, APIKey: Key{ID: k.ID, Name: k.Name, Mode: k.Mode, Key: plain, Prefix: k.Prefix, Scopes: k.Scopes}}, nil
}
