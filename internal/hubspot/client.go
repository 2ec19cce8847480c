package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ContactProperties are the properties PyTake reads from a HubSpot contact.
var ContactProperties = []string{"phone", "mobilephone", "firstname", "lastname", "email"}

// NoteToContact is HubSpot's default association type of a note to a
// contact (HUBSPOT_DEFINED).
const NoteToContact = 202

// Contact is a HubSpot CRM contact.
type Contact struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// Client calls HubSpot's CRM v3 API with a private app's access token.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client for the API at base (https://api.hubapi.com).
func NewClient(base string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Error is an answer of HubSpot other than 2xx, or a failed call (Status 0).
type Error struct {
	Status     int
	Category   string // HubSpot's category (RATE_LIMITS, OBJECT_NOT_FOUND, ...)
	Policy     string // policyName of a 429 (TEN_SECONDLY_ROLLING, DAILY)
	Message    string
	RetryAfter time.Duration // from Retry-After, or a default for 429
	cause      error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "hubspot: " + e.Message
	}
	return fmt.Sprintf("hubspot: %d %s: %s", e.Status, e.Category, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// Retryable: network failures, 429 and 5xx.
func (e *Error) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Unauthorized: the token was revoked or is wrong (401), or lacks a scope (403).
func (e *Error) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// NotFound: the object is not there (404).
func (e *Error) NotFound() bool { return e.Status == http.StatusNotFound }

// AsError finds a *Error in err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// GetContact reads a contact with ContactProperties.
func (c *Client) GetContact(ctx context.Context, token, id string) (Contact, error) {
	q := url.Values{"properties": {strings.Join(ContactProperties, ",")}}
	var out Contact
	err := c.do(ctx, token, http.MethodGet, "/crm/v3/objects/contacts/"+url.PathEscape(id)+"?"+q.Encode(), nil, &out)
	return out, err
}

// FindContactByPhone searches contacts whose phone is exactly phone.
func (c *Client) FindContactByPhone(ctx context.Context, token, phone string) (Contact, bool, error) {
	in := map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "phone", "operator": "EQ", "value": phone}}}},
		"properties":   ContactProperties,
		"limit":        1,
	}
	var out struct {
		Total   int       `json:"total"`
		Results []Contact `json:"results"`
	}
	if err := c.do(ctx, token, http.MethodPost, "/crm/v3/objects/contacts/search", in, &out); err != nil {
		return Contact{}, false, err
	}
	if len(out.Results) == 0 {
		return Contact{}, false, nil
	}
	return out.Results[0], true, nil
}

// CreateContact creates a contact with these properties.
func (c *Client) CreateContact(ctx context.Context, token string, props map[string]string) (Contact, error) {
	var out Contact
	err := c.do(ctx, token, http.MethodPost, "/crm/v3/objects/contacts", map[string]any{"properties": props}, &out)
	return out, err
}

// CreateNote logs a note on a contact.
func (c *Client) CreateNote(ctx context.Context, token, contactID, body string, at time.Time) (string, error) {
	in := map[string]any{
		"properties": map[string]string{"hs_timestamp": at.UTC().Format(time.RFC3339Nano), "hs_note_body": body},
		"associations": []any{map[string]any{
			"to":    map[string]string{"id": contactID},
			"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NoteToContact}},
		}},
	}
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, token, http.MethodPost, "/crm/v3/objects/notes", in, &out)
	return out.ID, err
}

func (c *Client) do(ctx context.Context, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("hubspot: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("hubspot: request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Message: "call failed: " + err.Error(), cause: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Message: "read answer: " + err.Error(), cause: err}
	}
	if resp.StatusCode/100 != 2 {
		return apiError(resp, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Status: resp.StatusCode, Message: "unreadable answer: " + err.Error()}
	}
	return nil
}

func apiError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Message    string `json:"message"`
		Category   string `json:"category"`
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(raw, &body)
	e := &Error{Status: resp.StatusCode, Category: body.Category, Policy: body.PolicyName, Message: body.Message}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if e.RetryAfter == 0 && resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = 10 * time.Second // the ten-second rolling window
		if body.PolicyName == "DAILY" {
			e.RetryAfter = time.Hour
		}
	}
	return e
}

// RetryAfter reads a Retry-After header: seconds or an HTTP date (0 when
// absent or unreadable).
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
