// Package tenant sets up an organisation: creating it with its first API key
// (what the ops command does for a deployed stack and the local stack does
// for its demo organisation), and connecting its WhatsApp number (the
// non-secret parts go to the store, where uniqueness is decided; the secrets
// to Secrets Manager). The REST API, the ops command and the local stack all
// go through here.
package tenant
