package inbound

import (
	"encoding/json"
	"strings"

	"github.com/pytake/pytake/internal/store"
)

// Plan is a webhook body turned into the writes it asks for, before any I/O:
// each change with its route (phone number id, or WABA id for fields that
// carry none) and its messages, statuses and other fields. Items that do not
// parse are kept raw with a reason, never dropped.
type Plan struct {
	Changes []PlannedChange
}

// PlannedChange is one change of one entry.
type PlannedChange struct {
	Route    string
	Field    string          // "messages" or another webhook field
	Value    json.RawMessage // the raw value, recorded for non-message fields
	Messages []PlannedMessage
	Statuses []PlannedStatus
	Errors   json.RawMessage // value.errors, when present
	Bad      string          // why the value did not parse ("" when it did)
}

// PlannedMessage is one inbound message (OrgID filled in once routed).
type PlannedMessage struct {
	In     store.InboundMessage
	System *IdentityChange
	Bad    string
	Raw    json.RawMessage
}

// IdentityChange is a user_changed_number / user_changed_user_id notice.
type IdentityChange struct {
	Type    string
	Updated store.Identity
}

// PlannedStatus is one status of an outbound message.
type PlannedStatus struct {
	Update store.StatusUpdate
	Bad    string
	Raw    json.RawMessage
}

// ParsePlan parses a webhook body (already verified, or being routed).
func ParsePlan(body []byte) (*Plan, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	p := &Plan{}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			p.Changes = append(p.Changes, planChange(e.ID, ch))
		}
	}
	return p, nil
}

func planChange(entryID string, ch change) PlannedChange {
	pc := PlannedChange{Field: ch.Field, Value: ch.Value}
	if ch.Field != "messages" {
		pc.Route = wabaRoute + entryID
		var m struct {
			Metadata struct {
				PhoneNumberID string `json:"phone_number_id"`
			} `json:"metadata"`
		}
		if json.Unmarshal(ch.Value, &m) == nil && m.Metadata.PhoneNumberID != "" {
			pc.Route = m.Metadata.PhoneNumberID
		}
		return pc
	}
	var v messagesValue
	if err := json.Unmarshal(ch.Value, &v); err != nil {
		pc.Route, pc.Bad = wabaRoute+entryID, "value does not parse: "+err.Error()
		return pc
	}
	pc.Route = v.Metadata.PhoneNumberID
	if pc.Route == "" {
		pc.Route = wabaRoute + entryID
	}
	for _, raw := range v.Messages {
		pc.Messages = append(pc.Messages, planMessage(v.Contacts, raw))
	}
	for _, raw := range v.Statuses {
		pc.Statuses = append(pc.Statuses, planStatus(raw))
	}
	if len(v.Errors) > 0 && string(v.Errors) != "null" {
		pc.Errors = v.Errors
	}
	return pc
}

func planMessage(contacts []waContact, raw json.RawMessage) PlannedMessage {
	var m waMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return PlannedMessage{Raw: raw, Bad: "message does not parse: " + err.Error()}
	}
	if m.ID == "" {
		return PlannedMessage{Raw: raw, Bad: "message has no id"}
	}
	who := identityFor(m, contacts)
	cont, mediaID, mime := content(m.Type, raw)
	pm := PlannedMessage{Raw: raw, In: store.InboundMessage{
		From: who, WAMID: m.ID, Type: m.Type, Timestamp: unixTime(m.Timestamp),
		Content: cont, Raw: raw, MediaID: mediaID, MediaMime: mime,
	}}
	if m.Context != nil {
		pm.In.ContextWAMID = m.Context.ID
	}
	if s := m.System; m.Type == "system" && s != nil {
		upd := store.Identity{WaID: firstNonEmpty(s.NewWaID, s.WaID), UserID: firstNonEmpty(s.NewUserID, s.UserID), ParentUserID: s.ParentUserID}
		switch s.Type {
		case "user_changed_number":
			upd.UserID = ""
			pm.System = &IdentityChange{Type: s.Type, Updated: upd}
		case "user_changed_user_id":
			upd.WaID = ""
			pm.System = &IdentityChange{Type: s.Type, Updated: upd}
		}
	}
	return pm
}

func planStatus(raw json.RawMessage) PlannedStatus {
	var st waStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return PlannedStatus{Raw: raw, Bad: "status does not parse: " + err.Error()}
	}
	if st.ID == "" || st.Status == "" {
		return PlannedStatus{Raw: raw, Bad: "status has no id or status"}
	}
	u := store.StatusUpdate{WAMID: st.ID, Status: strings.ToLower(st.Status), Timestamp: unixTime(st.Timestamp), Raw: raw,
		CallbackData: st.BizOpaque}
	if len(st.Errors) > 0 {
		e := st.Errors[0]
		u.Error = &store.MessageError{Code: e.Code, Title: e.Title, Message: e.Message, Details: e.ErrorData.Details}
		u.Errors, _ = json.Marshal(st.Errors)
	}
	if st.Pricing != nil {
		u.PricingCategory, u.Billable = st.Pricing.Category, st.Pricing.Billable
		u.Pricing, _ = json.Marshal(st.Pricing)
	}
	return PlannedStatus{Update: u, Raw: raw}
}
