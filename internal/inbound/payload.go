package inbound

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// envelope is Meta's webhook body, decoded only as far as routing needs;
// every message and status stays raw until it is processed on its own, so
// one malformed item never drops the others.
type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	} `json:"entry"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type messagesValue struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []waContact       `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   json.RawMessage   `json:"errors"`
}

type waContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID         string `json:"wa_id"`
	UserID       string `json:"user_id"`
	ParentUserID string `json:"parent_user_id"`
}

// waMessage is the part of an inbound message every type shares.
type waMessage struct {
	From       string `json:"from"`
	FromUserID string `json:"from_user_id"`
	ID         string `json:"id"`
	Timestamp  string `json:"timestamp"`
	Type       string `json:"type"`
	Context    *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	System *struct {
		Body         string `json:"body"`
		Type         string `json:"type"`
		WaID         string `json:"wa_id"`
		NewWaID      string `json:"new_wa_id"`
		UserID       string `json:"user_id"`
		NewUserID    string `json:"new_user_id"`
		ParentUserID string `json:"parent_user_id"`
	} `json:"system"`
}

type waStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	// BizOpaque is echoed from the send: the sender puts PyTake's message
	// id there, which reconciles a send whose outcome it never recorded.
	BizOpaque string `json:"biz_opaque_callback_data"`
	Errors    []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
	Pricing *struct {
		Billable     *bool  `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Category     string `json:"category"`
		Type         string `json:"type"`
	} `json:"pricing"`
}

// unixTime parses Meta's unix-seconds strings; zero when absent or bad.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// mediaTypes carry a media id, never bytes.
var mediaTypes = map[string]bool{"image": true, "video": true, "audio": true, "document": true, "sticker": true}

// content builds PyTake's typed content of a message from its raw JSON:
// text is {"text": body} (the integrations guide's shape); media is Meta's
// object with its id as media_id; every other type is Meta's object for
// that type as sent ({} when the type carries none).
func content(typ string, raw json.RawMessage) (json.RawMessage, string, string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return json.RawMessage(`{}`), "", ""
	}
	payload, ok := fields[typ]
	if !ok || len(bytes.TrimSpace(payload)) == 0 || typ == "" {
		return json.RawMessage(`{}`), "", ""
	}
	switch {
	case typ == "text":
		var t struct {
			Body string `json:"body"`
		}
		if json.Unmarshal(payload, &t) == nil {
			b, _ := json.Marshal(map[string]string{"text": t.Body})
			return b, "", ""
		}
	case mediaTypes[typ]:
		var m map[string]any
		if json.Unmarshal(payload, &m) == nil {
			mediaID, _ := m["id"].(string)
			mime, _ := m["mime_type"].(string)
			delete(m, "id")
			m["media_id"] = mediaID
			b, _ := json.Marshal(m)
			return b, mediaID, mime
		}
	}
	var compact bytes.Buffer
	if json.Compact(&compact, payload) == nil {
		return compact.Bytes(), "", ""
	}
	return payload, "", ""
}
