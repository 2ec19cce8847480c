package apikey

import (
	"fmt"
	"slices"
	"strings"
)

// Scopes a key may hold. Each /v1 route needs at most one of them (the
// route table in internal/api says which); ScopeAdmin holds every other.
const (
	ScopeMessagesRead   = "messages:read"  // messages, conversations, media
	ScopeMessagesWrite  = "messages:write" // send; resolve, assign, hand off conversations
	ScopeContactsRead   = "contacts:read"  // contacts
	ScopeContactsWrite  = "contacts:write" // create, change, delete contacts and tags
	ScopeWebhooksRead   = "webhooks:read"  // subscriptions, deliveries, the event catalogue, samples
	ScopeWebhooksWrite  = "webhooks:write" // subscribe, change, rotate, test, retry, unsubscribe
	ScopeChatbotsRead   = "chatbots:read"  // chatbots
	ScopeChatbotsWrite  = "chatbots:write" // create, change, delete chatbots
	ScopeAdmin          = "admin"          // API keys, WhatsApp settings, e-commerce integrations; and every scope above
	maxScopesPerRequest = 32
)

var allScopes = []string{
	ScopeAdmin, ScopeChatbotsRead, ScopeChatbotsWrite, ScopeContactsRead, ScopeContactsWrite,
	ScopeMessagesRead, ScopeMessagesWrite, ScopeWebhooksRead, ScopeWebhooksWrite,
}

// Scopes lists every scope, sorted.
func Scopes() []string { return slices.Clone(allScopes) }

// DefaultScopes are a new key's scopes when none are asked for: every
// scope but admin, sorted.
func DefaultScopes() []string {
	out := make([]string, 0, len(allScopes)-1)
	for _, s := range allScopes {
		if s != ScopeAdmin {
			out = append(out, s)
		}
	}
	return out
}

// FirstKeyScopes are the scopes of an organisation's first key: all of
// them, admin included.
func FirstKeyScopes() []string { return Scopes() }

// KnownScope reports whether s is a scope.
func KnownScope(s string) bool { return slices.Contains(allScopes, s) }

// NormalizeScopes checks a requested scope list: at least one, each known,
// none twice. It returns them sorted; on error, index is the position of
// the bad entry (-1 for the list itself) and err says what is wrong with it.
func NormalizeScopes(in []string) (out []string, index int, err error) {
	if len(in) == 0 {
		return nil, -1, fmt.Errorf("list at least one scope")
	}
	if len(in) > maxScopesPerRequest {
		return nil, -1, fmt.Errorf("at most %d scopes", maxScopesPerRequest)
	}
	out = make([]string, 0, len(in))
	for i, s := range in {
		if !KnownScope(s) {
			return nil, i, fmt.Errorf("unknown scope %q; the scopes are %s", s, strings.Join(allScopes, ", "))
		}
		if slices.Contains(out, s) {
			return nil, i, fmt.Errorf("%q is listed twice", s)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, -1, nil
}

// Allows reports whether a key holding scopes may use a route needing
// need ("" needs none). admin allows everything.
func Allows(scopes []string, need string) bool {
	return need == "" || slices.Contains(scopes, need) || slices.Contains(scopes, ScopeAdmin)
}
