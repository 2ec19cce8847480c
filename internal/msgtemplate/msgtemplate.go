// Package msgtemplate is what PyTake knows of WhatsApp message templates:
// Meta's definition of a template (as /{waba_id}/message_templates lists
// and creates them), the rules Meta applies to a new one (checked before
// the call, so a mistake is a 422 naming its field rather than a Graph API
// error), and the before-send check of a template message against the
// organisation's copy (the name and language exist, the template is
// APPROVED, each component gets the parameters it has variables for).
package msgtemplate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/lazyre"
)

// Template statuses (Meta's status and status-webhook event values).
const (
	StatusApproved = "APPROVED"
	StatusPending  = "PENDING"
	StatusRejected = "REJECTED"
	StatusDeleted  = "DELETED"
)

// Sendable reports whether Meta sends a template of this status: an
// APPROVED one, and the two status-webhook events that leave it sendable
// (REINSTATED: a paused template back in use; FLAGGED: low quality, sent
// until Meta pauses or disables it). Sync replaces them with Meta's
// listed status.
func Sendable(status string) bool {
	switch status {
	case StatusApproved, "REINSTATED", "FLAGGED":
		return true
	}
	return false
}

// Categories of a template.
var categories = []string{"AUTHENTICATION", "MARKETING", "UTILITY"}

// Statuses lists every template status Meta documents.
var Statuses = []string{
	"APPROVED", "ARCHIVED", "DELETED", "DISABLED", "FLAGGED", "IN_APPEAL", "LIMIT_EXCEEDED", "LOCKED",
	"PAUSED", "PENDING", "PENDING_DELETION", "REINSTATED", "REJECTED",
}

// Categories lists the template categories.
func Categories() []string { return append([]string(nil), categories...) }

// Meta's limits on a template's definition.
const (
	MaxName         = 512
	MaxBody         = 1024
	MaxHeaderText   = 60
	MaxFooter       = 60
	MaxButtons      = 10
	MaxQuickReplies = 10
	MaxURLButtons   = 2
	MaxPhoneButtons = 1
	MaxCopyCode     = 1
	MaxButtonText   = 25
	MaxURL          = 2000
	MaxHeaderParams = 1
)

// Definition is a template as Meta describes it.
type Definition struct {
	ID              string      `json:"id,omitempty"`
	Name            string      `json:"name"`
	Language        string      `json:"language"`
	Category        string      `json:"category"`
	Status          string      `json:"status,omitempty"`
	ParameterFormat string      `json:"parameter_format,omitempty"`
	Components      []Component `json:"components"`
}

// Named reports whether the template's variables are named ({{first_name}})
// rather than positional ({{1}}).
func (d Definition) Named() bool { return strings.EqualFold(d.ParameterFormat, "named") }

// Component is one of a template's HEADER, BODY, FOOTER and BUTTONS.
type Component struct {
	Type    string   `json:"type"`
	Format  string   `json:"format,omitempty"`
	Text    string   `json:"text,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	Example *Example `json:"example,omitempty"`
}

// Example holds a component's sample values (Meta requires one per
// variable).
type Example struct {
	HeaderText      []string       `json:"header_text,omitempty"`
	HeaderTextNamed []NamedExample `json:"header_text_named_params,omitempty"`
	HeaderHandle    []string       `json:"header_handle,omitempty"`
	BodyText        [][]string     `json:"body_text,omitempty"`
	BodyTextNamed   []NamedExample `json:"body_text_named_params,omitempty"`
}

// NamedExample is the sample of one named variable.
type NamedExample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// Button is one button of a BUTTONS component.
type Button struct {
	Type        string          `json:"type"`
	Text        string          `json:"text,omitempty"`
	URL         string          `json:"url,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// component returns the first component of a type (HEADER, BODY, ...).
func (d Definition) component(typ string) (Component, bool) {
	for _, c := range d.Components {
		if strings.EqualFold(c.Type, typ) {
			return c, true
		}
	}
	return Component{}, false
}

// placeholder matches {{1}} or {{name}}.
var placeholder = lazyre.New(`\{\{\s*([^{}]*?)\s*\}\}`)

// Variables lists the distinct variables of a text, in order of first
// appearance ("1", "2", or names).
func Variables(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholder().FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// variableIssue says what is wrong with a text's variables (positional:
// {{1}} to {{n}}, each number once or more, none missing; named: lowercase
// letters, digits and underscores), or "".
func variableIssue(vars []string, named bool) string {
	if named {
		for _, v := range vars {
			if !namedVar(v) {
				return fmt.Sprintf("variable {{%s}} must be a name of lowercase letters, digits and underscores (the template's parameter_format is named)", v)
			}
		}
		return ""
	}
	nums := map[int]bool{}
	for _, v := range vars {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || strconv.Itoa(n) != v {
			return fmt.Sprintf("variable {{%s}} must be a number from 1 (positional variables are {{1}}, {{2}}, ...; named ones need parameter_format named)", v)
		}
		nums[n] = true
	}
	for i := 1; i <= len(nums); i++ {
		if !nums[i] {
			return fmt.Sprintf("variables must be numbered {{1}} to {{%d}} without gaps; {{%d}} is missing", len(nums), i)
		}
	}
	return ""
}

func namedVar(v string) bool {
	if v == "" || len(v) > MaxName {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
