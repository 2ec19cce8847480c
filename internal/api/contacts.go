package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/store"
)

// Contact limits.
const (
	maxTags         = 50
	maxTagLen       = 64
	maxAttributes   = 50
	maxAttrKeyLen   = 64
	maxAttrValueLen = 1024
	maxNameLen      = 256
)

// ContactStore is the part of the store contact routes use.
type ContactStore interface {
	CreateContact(ctx context.Context, c store.Contact, emit store.Emit[store.Contact]) (store.Contact, error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
	SaveContact(ctx context.Context, c store.Contact, emit store.Emit[store.Contact]) (store.Contact, error)
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

type contactInput struct {
	WhatsAppID string         `json:"whatsapp_id"`
	Name       string         `json:"name"`
	Email      string         `json:"email"`
	Tags       []string       `json:"tags"`
	Attributes map[string]any `json:"attributes"`
}

func cleanTags(field string, in []string, details *[]apperr.Detail) []string {
	seen := map[string]bool{}
	out := []string{}
	for i, t := range in {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			*details = append(*details, apperr.Detail{Field: field + "[" + strconv.Itoa(i) + "]", Issue: "must not be empty"})
		case utf8.RuneCountInString(t) > maxTagLen:
			*details = append(*details, apperr.Detail{Field: field + "[" + strconv.Itoa(i) + "]", Issue: "at most 64 characters"})
		case jsoncheck.ControlIssue(t) != "":
			*details = append(*details, apperr.Detail{Field: field + "[" + strconv.Itoa(i) + "]", Issue: jsoncheck.ControlIssue(t)})
		case !seen[t]:
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		*details = append(*details, apperr.Detail{Field: field, Issue: "at most 50 tags"})
	}
	return out
}

// checkName checks a name-like field (not free text): at most max
// characters, no control characters.
func checkName(field, s string, max int) []apperr.Detail {
	if utf8.RuneCountInString(s) > max {
		return []apperr.Detail{{Field: field, Issue: "at most " + strconv.Itoa(max) + " characters"}}
	}
	if issue := jsoncheck.ControlIssue(s); issue != "" {
		return []apperr.Detail{{Field: field, Issue: issue}}
	}
	return nil
}

// storable reports whether DynamoDB can keep a number: magnitudes from
// 1e-130 to below 1e126, or zero.
func storable(f float64) bool {
	a := math.Abs(f)
	return !math.IsInf(f, 0) && !math.IsNaN(f) && (a == 0 || (a >= 1e-130 && a < 1e125))
}

func checkAttributes(attrs map[string]any, details *[]apperr.Detail) {
	if len(attrs) > maxAttributes {
		*details = append(*details, apperr.Detail{Field: "attributes", Issue: "at most 50 attributes"})
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := "attributes." + k
		if k == "" || utf8.RuneCountInString(k) > maxAttrKeyLen {
			*details = append(*details, apperr.Detail{Field: f, Issue: "keys are 1 to 64 characters"})
		} else if issue := jsoncheck.ControlIssue(k); issue != "" {
			*details = append(*details, apperr.Detail{Field: f, Issue: "the key " + issue})
		}
		switch v := attrs[k].(type) {
		case string:
			if utf8.RuneCountInString(v) > maxAttrValueLen {
				*details = append(*details, apperr.Detail{Field: f, Issue: "at most 1024 characters"})
			}
		case json.Number:
			if fv, err := v.Float64(); err != nil || !storable(fv) {
				*details = append(*details, apperr.Detail{Field: f, Issue: "must be a number between -1e125 and 1e125 (DynamoDB's range), 0 or at least 1e-130 in magnitude"})
			} else if n, err := v.Int64(); err == nil {
				attrs[k] = n
			} else {
				attrs[k], _ = v.Float64()
			}
		case float64, int64, bool, nil:
		default:
			*details = append(*details, apperr.Detail{Field: f, Issue: "must be a string, a number or a boolean"})
		}
	}
}

func (s *Server) createContact(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.contacts == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	var in contactInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var details []apperr.Detail
	wa, err := s.readPhone(ctx, r.OrgID(), "whatsapp_id", in.WhatsAppID)
	if e, ok := apperr.As(err); ok && e.Code == "missing_country_code" || apperr.KindOf(err) == apperr.Unavailable {
		return nil, err
	}
	if err != nil {
		details = append(details, apperr.Detail{Field: "whatsapp_id", Issue: "must be a phone number with country code, e.g. +5511999999999"})
	}
	name := strings.TrimSpace(in.Name)
	details = append(details, checkName("name", name, maxNameLen)...)
	email := strings.TrimSpace(in.Email)
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
			details = append(details, apperr.Detail{Field: "email", Issue: "is not a valid email address"})
		}
	}
	tags := cleanTags("tags", in.Tags, &details)
	checkAttributes(in.Attributes, &details)
	for k, v := range in.Attributes {
		if v == nil {
			delete(in.Attributes, k)
		}
	}
	if len(details) > 0 {
		return nil, apperr.New(apperr.Unprocessable, "the contact is invalid").WithDetails(details...)
	}
	c, err := s.contacts.CreateContact(ctx, store.Contact{OrgID: r.OrgID(), WhatsAppID: wa, Name: name, Email: email,
		Tags: tags, Attributes: in.Attributes}, s.contactEmit(event.ContactCreated))
	if err != nil {
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusCreated, event.ViewContact(c))
	if err == nil {
		resp.Headers["Location"] = "/v1/contacts/" + c.ID
	}
	return resp, err
}

func (s *Server) getContact(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.contacts == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	c, err := s.contacts.Contact(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, event.ViewContact(c))
}

// editContact applies f to the contact and saves it, retrying when a
// concurrent edit got there first.
func (s *Server) editContact(ctx context.Context, r *httpapi.Request, f func(*store.Contact) bool) (*httpapi.Response, error) {
	if s.contacts == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	for attempt := 0; attempt < 5; attempt++ {
		c, err := s.contacts.Contact(ctx, r.OrgID(), r.Params["id"])
		if err != nil {
			return nil, err
		}
		if !f(&c) {
			return httpapi.JSON(http.StatusOK, event.ViewContact(c))
		}
		saved, err := s.contacts.SaveContact(ctx, c, s.contactEmit(event.ContactUpdated))
		if apperr.Is(err, apperr.Conflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, event.ViewContact(saved))
	}
	return nil, apperr.New(apperr.Conflict, "the contact keeps changing; retry")
}

func (s *Server) addTags(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Tags []string `json:"tags"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var details []apperr.Detail
	tags := cleanTags("tags", in.Tags, &details)
	if len(in.Tags) == 0 {
		details = append(details, apperr.Detail{Field: "tags", Issue: "list at least one tag"})
	}
	if len(details) > 0 {
		return nil, apperr.New(apperr.Unprocessable, "the tags are invalid").WithDetails(details...)
	}
	var tooMany bool
	resp, err := s.editContact(ctx, r, func(c *store.Contact) bool {
		changed := false
		for _, t := range tags {
			found := false
			for _, have := range c.Tags {
				found = found || have == t
			}
			if !found {
				c.Tags = append(c.Tags, t)
				changed = true
			}
		}
		if len(c.Tags) > maxTags {
			tooMany = true
			return false
		}
		return changed
	})
	if tooMany {
		return nil, apperr.Field("tags", "a contact has at most 50 tags")
	}
	return resp, err
}

func (s *Server) removeTag(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	tag := strings.TrimSpace(r.Params["tag"])
	return s.editContact(ctx, r, func(c *store.Contact) bool {
		out := c.Tags[:0]
		for _, t := range c.Tags {
			if t != tag {
				out = append(out, t)
			}
		}
		changed := len(out) != len(c.Tags)
		c.Tags = out
		return changed
	})
}

// contactEmit emits name (contact.created, contact.updated) in the
// transaction that makes the change: the outbox relay publishes it once
// committed, so a change answered 2xx always has its event.
func (s *Server) contactEmit(name string) store.Emit[store.Contact] {
	return event.ContactEmit(name, s.now)
}

func (s *Server) listContacts(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.contactList == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	wa := ""
	if q := r.Query.Get("whatsapp_id"); q != "" {
		n, err := s.readPhone(ctx, r.OrgID(), "whatsapp_id", q)
		if err != nil {
			return nil, err
		}
		wa = n
	}
	email := strings.TrimSpace(r.Query.Get("email"))
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
			return nil, apperr.Field("email", "is not a valid email address")
		}
	}
	page, err := s.contactList.Contacts(ctx, r.OrgID(), strings.TrimSpace(r.Query.Get("tag")), wa, r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	views := make([]event.ContactView, 0, len(page.Items))
	for _, c := range page.Items {
		// Like tag, email filters within the page (ignoring case): the
		// Zapier app's Find Contact follows next_cursor.
		if email != "" && !strings.EqualFold(c.Email, email) {
			continue
		}
		views = append(views, event.ViewContact(c))
	}
	return httpapi.JSON(http.StatusOK, store.Page[event.ContactView]{Items: views, NextCursor: page.NextCursor})
}

// patchContact sets name and email, replaces tags, and merges attributes
// (a null value removes a key).
func (s *Server) patchContact(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Name       *string         `json:"name"`
		Email      *string         `json:"email"`
		Tags       *[]string       `json:"tags"`
		Attributes *map[string]any `json:"attributes"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var details []apperr.Detail
	var tags []string
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		in.Name = &n
		details = append(details, checkName("name", n, maxNameLen)...)
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		in.Email = &e
		if e != "" {
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
				details = append(details, apperr.Detail{Field: "email", Issue: "is not a valid email address"})
			}
		}
	}
	if in.Tags != nil {
		tags = cleanTags("tags", *in.Tags, &details)
	}
	if in.Attributes != nil {
		checkAttributes(*in.Attributes, &details)
	}
	if len(details) > 0 {
		return nil, apperr.New(apperr.Unprocessable, "the contact is invalid").WithDetails(details...)
	}
	tooMany := false
	resp, err := s.editContact(ctx, r, func(c *store.Contact) bool {
		if in.Name != nil {
			c.Name = *in.Name
		}
		if in.Email != nil {
			c.Email = *in.Email
		}
		if in.Tags != nil {
			c.Tags = tags
		}
		if in.Attributes != nil {
			if c.Attributes == nil {
				c.Attributes = map[string]any{}
			}
			for k, v := range *in.Attributes {
				if v == nil {
					delete(c.Attributes, k)
				} else {
					c.Attributes[k] = v
				}
			}
			if len(c.Attributes) > maxAttributes {
				tooMany = true
				return false
			}
		}
		return true
	})
	if tooMany {
		return nil, apperr.Field("attributes", "a contact has at most 50 attributes")
	}
	return resp, err
}

func (s *Server) deleteContact(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.contactList == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	if err := s.contactList.DeleteContact(ctx, r.OrgID(), r.Params["id"]); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}

// ContactLister lists and deletes contacts.
type ContactLister interface {
	Contacts(ctx context.Context, org, tag, waID, cursor string, limit int) (store.Page[store.Contact], error)
	DeleteContact(ctx context.Context, org, id string) error
}
