package graphsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/phone"
)

// Sent is a send the simulator accepted.
type Sent struct {
	WAMID         string          `json:"wamid"`
	PhoneNumberID string          `json:"phone_number_id"`
	To            string          `json:"to"`
	Type          string          `json:"type"`
	Body          json.RawMessage `json:"body"` // the request body as received
	At            time.Time       `json:"at"`
}

// handleSend serves POST /{version}/{phone_number_id}/messages.
func (s *Sim) handleSend(w http.ResponseWriter, r *http.Request) {
	phone := r.PathValue("phone")
	if !validVersion(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return
	}
	acct, ok := s.authorize(w, r, phone, "POST")
	if !ok {
		return
	}
	s.recordRate(phone)

	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.reject(100)
		invalidParam(w, "Could not read the request body: "+err.Error()+".")
		return
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		s.reject(100)
		invalidParam(w, "The request body must be a JSON object.")
		return
	}
	if _, isStatus := body["status"]; isStatus {
		if _, hasTo := body["to"]; !hasTo {
			s.markRead(w, phone, body)
			return
		}
	}
	snd, bad := validateSend(body)
	if bad != nil {
		s.reject(100)
		invalidParam(w, string(*bad))
		return
	}

	wamid := s.newWAMID(normalisePeer(snd.To))
	s.mu.Lock()
	f, faulted := s.takeFaultLocked(phone, snd.To)
	if faulted && !f.Async {
		s.stats.rejected[f.Code]++
		s.mu.Unlock()
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeMetaError(w, f.HTTPStatus, metaError{
			Message:      f.answerMessage(),
			Code:         f.Code,
			ErrorSubcode: f.Subcode,
			ErrorData:    &errorData{MessagingProduct: "whatsapp", Details: f.Details},
		})
		return
	}
	s.sent = append(s.sent, Sent{WAMID: wamid, PhoneNumberID: phone, To: snd.To, Type: snd.Type, Body: raw, At: s.cfg.Now()})
	s.stats.accepted++
	if faulted {
		s.stats.asyncFailed++
	}
	s.mu.Unlock()

	plan := statusPlan{acct: acct, wamid: wamid, recipient: snd.To, category: "service"}
	if snd.Type == "template" {
		plan.category = "utility"
	}
	if faulted {
		plan.fail = &f
	}
	if s.cfg.WebhookURL != "" {
		s.goBackground(func(ctx context.Context) { s.runStatuses(ctx, plan) })
	}

	contact := map[string]string{"input": snd.To}
	if isBSUID(snd.To) {
		contact["user_id"] = snd.To
	} else {
		contact["wa_id"] = s.waID(digits(snd.To))
	}
	msg := map[string]string{"id": wamid}
	if snd.Type == "template" {
		msg["message_status"] = "accepted"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]string{msg},
	})
}

// markRead answers {"messaging_product":"whatsapp","status":"read",
// "message_id":...} (optionally with a typing indicator).
func (s *Sim) markRead(w http.ResponseWriter, phone string, body map[string]json.RawMessage) {
	product, _ := str(body, "messaging_product")
	status, err := str(body, "status")
	id, _ := str(body, "message_id")
	switch {
	case product != "whatsapp":
		s.reject(100)
		invalidParam(w, "The parameter messaging_product is required.")
		return
	case err != nil || status != "read":
		s.reject(100)
		invalidParam(w, "Param status must be \"read\".")
		return
	case id == "":
		s.reject(100)
		invalidParam(w, "The parameter message_id is required.")
		return
	}
	typing := false
	if raw, ok := body["typing_indicator"]; ok && !isNull(raw) {
		var ti struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &ti) != nil || ti.Type != "text" {
			s.reject(100)
			invalidParam(w, "Param typing_indicator must be {\"type\":\"text\"}.")
			return
		}
		typing = true
	}
	s.mu.Lock()
	s.stats.markedRead++
	s.reads = append(s.reads, Read{PhoneNumberID: phone, WAMID: id, Typing: typing, At: s.cfg.Now()})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// authorize checks the bearer token of a request for phone number phone:
// 401 code 190 when it is missing or unknown, 400 code 100 subcode 33 when
// the phone number is unknown, 401 code 190 when the token belongs to
// another number. It answers and returns false on failure.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request, phone, method string) (Account, bool) {
	token, ok := s.knownBearer(w, r)
	if !ok {
		s.reject(190)
		return Account{}, false
	}
	acct, known := s.account(phone)
	switch {
	case !known:
		s.reject(100)
		unknownObject(w, http.StatusBadRequest, method, phone)
	case token != acct.AccessToken:
		s.reject(190)
		badToken(w, "the access token is not valid for phone number "+phone+".")
	default:
		return acct, true
	}
	return Account{}, false
}

// reject counts a refused send by its Meta code.
func (s *Sim) reject(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.rejected[code]++
}

// bearer is the request's access token: the Authorization header (Bearer
// or OAuth scheme) or the access_token query parameter.
func bearer(r *http.Request) string {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")) {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// knownBearer returns the request's bearer token when the simulator knows
// it; otherwise it answers 401 code 190 (no token, or an unknown one) and
// returns false.
func (s *Sim) knownBearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	token := bearer(r)
	switch {
	case token == "":
		badToken(w, "no access token was sent; use \"Authorization: Bearer <token>\".")
		return "", false
	case !s.knownToken(token):
		badToken(w, "the access token could not be decrypted or has expired.")
		return "", false
	}
	return token, true
}

// validVersion accepts Graph API versions such as "v26.0".
func validVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	return ok && strings.HasPrefix(v, "v") && allDigits(major) && allDigits(minor)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// handleUnknown answers any other path like the Graph API does.
func (s *Sim) handleUnknown(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		simError(w, http.StatusNotFound, "no simulator endpoint %s %s", r.Method, r.URL.Path)
		return
	}
	writeMetaError(w, http.StatusBadRequest, metaError{
		Message: "Unknown path components: " + r.URL.Path,
		Code:    2500,
	})
}

// rateWindow tracks the sends of one phone number over the last second and
// the most seen in any one-second window.
type rateWindow struct {
	times []time.Time
	max   int
}

func (rw *rateWindow) add(t time.Time) {
	if n := len(rw.times); n > 0 && t.Before(rw.times[n-1]) {
		t = rw.times[n-1] // keep the window sorted if Now steps back
	}
	rw.times = append(rw.times, t)
	i := 0
	for t.Sub(rw.times[i]) >= time.Second {
		i++
	}
	rw.times = rw.times[i:]
	rw.max = max(rw.max, len(rw.times))
}

// recordRate notes a send request to phone now. Every authenticated
// request to a known number counts, whether it is accepted or not: Meta's
// throughput limit counts requests.
func (s *Sim) recordRate(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rw := s.rates[phone]
	if rw == nil {
		rw = &rateWindow{}
		s.rates[phone] = rw
	}
	rw.add(s.cfg.Now())
}

// MaxPerSecond is the most send requests phoneNumberID received within any
// one-second window.
func (s *Sim) MaxPerSecond(phoneNumberID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rw := s.rates[phoneNumberID]; rw != nil {
		return rw.max
	}
	return 0
}

// waID is the wa_id Meta answers for a number sent to: the registered
// account among the number's forms, else the number as sent.
func (s *Sim) waID(d string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range phone.Variants(d) {
		if s.registered[v] {
			return v
		}
	}
	return d
}
