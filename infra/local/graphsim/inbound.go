package graphsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ErrInvalidInbound is wrapped by Inbound's errors about its argument (as
// opposed to failures to deliver the webhook).
var ErrInvalidInbound = errors.New("graphsim: invalid inbound message")

// Inbound is a customer writing to one of the simulator's numbers. Exactly
// one of Text, Interactive and Message says what they wrote.
type Inbound struct {
	// PhoneNumberID is the business number written to; it may be empty
	// when the simulator has a single account.
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	From          string `json:"from,omitempty"`    // the customer's phone (wa_id)
	UserID        string `json:"user_id,omitempty"` // the customer's BSUID; From may then be empty
	Name          string `json:"name,omitempty"`    // profile name
	Text          string `json:"text,omitempty"`
	// Interactive is a reply object such as {"type":"button_reply",
	// "button_reply":{"id":"...","title":"..."}} or a list_reply.
	Interactive json.RawMessage `json:"interactive,omitempty"`
	// Message is a raw Meta message object with at least "type"; from, id
	// and timestamp are filled in unless it has them.
	Message json.RawMessage `json:"message,omitempty"`
	// ReplyTo, a wamid, adds context{from, id}: the customer replied to or
	// tapped a button of that message.
	ReplyTo string `json:"reply_to,omitempty"`
}

// Inbound builds Meta's webhook for a customer message, signs it with the
// account's app secret and posts it to the webhook URL once. It returns the
// message's wamid and the status the webhook answered.
func (s *Sim) Inbound(ctx context.Context, in Inbound) (wamid string, status int, err error) {
	if in.UserID == "" && isBSUID(in.From) {
		in.UserID, in.From = in.From, ""
	}
	acct, msg, wamid, err := s.buildInbound(in)
	if err != nil {
		return "", 0, err
	}
	v := value{Messages: []json.RawMessage{msg}}
	var typ struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(msg, &typ)
	if typ.Type != "system" { // system messages come without contacts
		c := contact{WaID: in.From, UserID: in.UserID}
		if in.Name != "" {
			c.Profile = &profile{Name: in.Name}
		}
		v.Contacts = []contact{c}
	}
	body, err := json.Marshal(messagesEnvelope(acct, v))
	if err != nil {
		return "", 0, fmt.Errorf("graphsim: encode inbound webhook: %w", err)
	}
	s.mu.Lock()
	s.stats.inbound++
	if in.From != "" {
		// Whoever writes has a WhatsApp account under this wa_id: sends
		// to another form of the number resolve to it, as on Meta.
		s.registered[digits(in.From)] = true
	}
	s.mu.Unlock()
	status, err = s.post(ctx, acct, body)
	if err != nil {
		return wamid, 0, fmt.Errorf("graphsim: deliver inbound %s: %w", wamid, err)
	}
	s.mu.Lock()
	if status/100 == 2 {
		s.stats.webhooksDelivered++
	} else {
		s.stats.webhooksFailed++
	}
	s.mu.Unlock()
	return wamid, status, nil
}

// buildInbound checks in and returns its account, the message object and
// its wamid.
func (s *Sim) buildInbound(in Inbound) (Account, json.RawMessage, string, error) {
	acct, ok := s.account(in.PhoneNumberID)
	if in.PhoneNumberID == "" {
		acct, ok = s.soleAccount()
	}
	if !ok {
		return Account{}, nil, "", fmt.Errorf("%w: unknown phone_number_id %q", ErrInvalidInbound, in.PhoneNumberID)
	}
	if in.From == "" && in.UserID == "" {
		return Account{}, nil, "", fmt.Errorf("%w: from (a phone number) or user_id (a BSUID) is required", ErrInvalidInbound)
	}
	kinds := 0
	for _, set := range []bool{in.Text != "", len(in.Interactive) > 0 && !isNull(in.Interactive), len(in.Message) > 0 && !isNull(in.Message)} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return Account{}, nil, "", fmt.Errorf("%w: give exactly one of text, interactive and message", ErrInvalidInbound)
	}

	msg := map[string]json.RawMessage{}
	switch {
	case in.Text != "":
		msg["type"] = mustJSON("text")
		msg["text"] = mustJSON(map[string]string{"body": in.Text})
	case len(in.Interactive) > 0 && !isNull(in.Interactive):
		var it struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(in.Interactive, &it); err != nil || it.Type == "" {
			return Account{}, nil, "", fmt.Errorf("%w: interactive must be an object with a type (button_reply, list_reply, nfm_reply)", ErrInvalidInbound)
		}
		msg["type"] = mustJSON("interactive")
		msg["interactive"] = in.Interactive
	default:
		if err := json.Unmarshal(in.Message, &msg); err != nil {
			return Account{}, nil, "", fmt.Errorf("%w: message must be a JSON object: %w", ErrInvalidInbound, err)
		}
		if t, err := str(msg, "type"); err != nil || t == "" {
			return Account{}, nil, "", fmt.Errorf("%w: message needs a \"type\"", ErrInvalidInbound)
		}
	}

	from := in.From
	if from == "" {
		from = in.UserID
	}
	setDefault(msg, "from", from)
	if in.UserID != "" {
		setDefault(msg, "from_user_id", in.UserID)
	}
	setDefault(msg, "id", s.newWAMID(normalisePeer(from)))
	setDefault(msg, "timestamp", strconv.FormatInt(s.cfg.Now().Unix(), 10))
	if in.ReplyTo != "" {
		if _, has := msg["context"]; !has {
			msg["context"] = mustJSON(map[string]string{"from": acct.DisplayPhoneNumber, "id": in.ReplyTo})
		}
	}
	wamid, err := str(msg, "id")
	if err != nil || wamid == "" {
		return Account{}, nil, "", fmt.Errorf("%w: message id must be a non-empty string", ErrInvalidInbound)
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return Account{}, nil, "", fmt.Errorf("%w: %w", ErrInvalidInbound, err)
	}
	return acct, raw, wamid, nil
}

func setDefault(m map[string]json.RawMessage, key, v string) {
	if raw, ok := m[key]; !ok || isNull(raw) {
		m[key] = mustJSON(v)
	}
}

// mustJSON encodes values that always encode (strings and string maps).
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("graphsim: encode %T: %v", v, err))
	}
	return b
}

func (s *Sim) handleInbound(w http.ResponseWriter, r *http.Request) {
	var in Inbound
	if err := decodeJSON(w, r, &in); err != nil {
		simError(w, http.StatusBadRequest, "inbound: %v", err)
		return
	}
	wamid, status, err := s.Inbound(r.Context(), in)
	switch {
	case errors.Is(err, ErrInvalidInbound):
		simError(w, http.StatusBadRequest, "%v", err)
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]any{"wamid": wamid, "error": map[string]string{"message": err.Error()}})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"wamid": wamid, "webhook_status": status})
	}
}
