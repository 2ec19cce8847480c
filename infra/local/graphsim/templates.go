package graphsim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTemplateReview is how long a created template stays PENDING
// before the simulator decides it (Config.TemplateReview zero).
const DefaultTemplateReview = 300 * time.Millisecond

// Template is a message template of one of the simulator's WABAs.
type Template struct {
	ID              string          `json:"id"`
	WABAID          string          `json:"-"`
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Category        string          `json:"category"`
	Status          string          `json:"status"`
	ParameterFormat string          `json:"parameter_format,omitempty"`
	Components      json.RawMessage `json:"components"`
	RejectedReason  string          `json:"rejected_reason,omitempty"`
}

// Read is one mark-as-read request.
type Read struct {
	PhoneNumberID string    `json:"phone_number_id"`
	WAMID         string    `json:"message_id"`
	Typing        bool      `json:"typing"`
	At            time.Time `json:"at"`
}

// AddTemplate registers a template for a WABA as if Meta had it (any
// status); an empty ID gets one.
func (s *Sim) AddTemplate(t Template) Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		s.seq++
		t.ID = strconv.FormatUint(7000000000000000+s.seq, 10)
	}
	s.templates = append(s.templates, t)
	return t
}

// SetTemplateStatus sets a template's status (a review, a pause) without a
// webhook; false when no template has the id.
func (s *Sim) SetTemplateStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.templates {
		if s.templates[i].ID == id {
			s.templates[i].Status = status
			return true
		}
	}
	return false
}

// Templates lists the templates of a WABA, oldest first.
func (s *Sim) Templates(wabaID string) []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Template
	for _, t := range s.templates {
		if t.WABAID == wabaID {
			out = append(out, t)
		}
	}
	return out
}

// Reads lists the mark-as-read requests, oldest first.
func (s *Sim) Reads() []Read {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Read(nil), s.reads...)
}

// wabaAccount is an account of the WABA whose access token the request
// carries; it answers and returns false otherwise (Meta's unknown object
// error, as for a token without access to the WABA).
func (s *Sim) wabaAccount(w http.ResponseWriter, r *http.Request, waba string) (Account, bool) {
	if !validVersion(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return Account{}, false
	}
	token, ok := s.knownBearer(w, r)
	if !ok {
		return Account{}, false
	}
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	for _, a := range s.accounts {
		if a.WABAID == waba && a.AccessToken == token {
			return a, true
		}
	}
	unknownObject(w, http.StatusBadRequest, r.Method, waba)
	return Account{}, false
}

// handleListTemplates serves GET /{version}/{waba_id}/message_templates
// (limit, after, name, status), in pages with Meta's cursors.
func (s *Sim) handleListTemplates(w http.ResponseWriter, r *http.Request) {
	waba := r.PathValue("id")
	if _, ok := s.wabaAccount(w, r, waba); !ok {
		return
	}
	q := r.URL.Query()
	limit := 25
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, 100)
	}
	start := 0
	if a := q.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			invalidParam(w, "Invalid parameter after.")
			return
		}
		start = n
	}
	var all []Template
	for _, t := range s.Templates(waba) {
		if (q.Get("name") == "" || t.Name == q.Get("name")) && (q.Get("status") == "" || strings.EqualFold(t.Status, q.Get("status"))) {
			all = append(all, t)
		}
	}
	data := []Template{}
	if start < len(all) {
		data = all[start:min(start+limit, len(all))]
	}
	cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
	paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(start + len(data))}}
	if start+len(data) < len(all) {
		paging["next"] = baseURL(r) + r.URL.Path + "?limit=" + strconv.Itoa(limit) + "&after=" + cursor(start+len(data))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": paging})
}

// handleCreateTemplate serves POST /{version}/{waba_id}/message_templates:
// the template is PENDING, then, after the review delay, APPROVED (or
// REJECTED, with reason INVALID_FORMAT, when its name contains "reject"),
// and a signed message_template_status_update webhook says so.
func (s *Sim) handleCreateTemplate(w http.ResponseWriter, r *http.Request) {
	waba := r.PathValue("id")
	acct, ok := s.wabaAccount(w, r, waba)
	if !ok {
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		invalidParam(w, "Could not read the request body.")
		return
	}
	var in struct {
		Name            string          `json:"name"`
		Language        string          `json:"language"`
		Category        string          `json:"category"`
		ParameterFormat string          `json:"parameter_format"`
		Components      json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || in.Name == "" || in.Language == "" || in.Category == "" || len(in.Components) == 0 {
		invalidParam(w, "The parameters name, language, category and components are required.")
		return
	}
	s.mu.Lock()
	for _, t := range s.templates {
		if t.WABAID == waba && t.Name == in.Name && t.Language == in.Language {
			s.mu.Unlock()
			writeMetaError(w, http.StatusBadRequest, metaError{Message: "Invalid parameter", Code: 100, ErrorSubcode: 2388024,
				ErrorUserTitle: "Content in This Language Already Exists",
				ErrorUserMsg:   fmt.Sprintf("There is already %s content for this template. You can delete the existing content and try again.", in.Language)})
			return
		}
	}
	s.seq++
	t := Template{ID: strconv.FormatUint(7000000000000000+s.seq, 10), WABAID: waba, Name: in.Name, Language: in.Language,
		Category: strings.ToUpper(in.Category), Status: "PENDING", ParameterFormat: strings.ToUpper(in.ParameterFormat), Components: in.Components}
	s.templates = append(s.templates, t)
	s.mu.Unlock()
	if s.cfg.WebhookURL != "" {
		s.goBackground(func(ctx context.Context) { s.reviewTemplate(ctx, acct, t) })
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": t.ID, "status": t.Status, "category": t.Category})
}

// reviewTemplate decides a pending template after the review delay and
// posts the status webhook.
func (s *Sim) reviewTemplate(ctx context.Context, acct Account, t Template) {
	delay := s.cfg.TemplateReview
	if delay <= 0 {
		delay = DefaultTemplateReview
	}
	if sleep(ctx, delay) != nil {
		return
	}
	status, reason := "APPROVED", "NONE"
	if strings.Contains(t.Name, "reject") {
		status, reason = "REJECTED", "INVALID_FORMAT"
	}
	s.mu.Lock()
	found := false
	for i := range s.templates {
		if s.templates[i].ID == t.ID {
			s.templates[i].Status, found = status, true
			if status == "REJECTED" {
				s.templates[i].RejectedReason = reason
			}
		}
	}
	s.mu.Unlock()
	if !found {
		return // deleted meanwhile
	}
	id, _ := strconv.ParseInt(t.ID, 10, 64)
	value := map[string]any{"event": status, "message_template_id": id, "message_template_name": t.Name,
		"message_template_language": t.Language, "reason": reason, "message_template_category": t.Category}
	if err := s.postWABAField(ctx, acct, "message_template_status_update", value); err != nil && ctx.Err() == nil {
		s.cfg.Log.Warn("graphsim: template status webhook not delivered", "template", t.Name, "err", err)
	}
}

// postWABAField posts a signed WABA webhook with one change.
func (s *Sim) postWABAField(ctx context.Context, acct Account, field string, value any) error {
	v, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("graphsim: encode %s: %w", field, err)
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []map[string]any{{
		"id": acct.WABAID, "time": s.cfg.Now().Unix(), "changes": []map[string]any{{"field": field, "value": json.RawMessage(v)}},
	}}})
	if err != nil {
		return fmt.Errorf("graphsim: encode %s webhook: %w", field, err)
	}
	return s.deliver(ctx, acct, body)
}

// handleDeleteTemplate serves DELETE /{version}/{waba_id}/message_templates
// ?name=...[&hsm_id=...]: every language of the name, or the one with the
// id.
func (s *Sim) handleDeleteTemplate(w http.ResponseWriter, r *http.Request) {
	waba := r.PathValue("id")
	if _, ok := s.wabaAccount(w, r, waba); !ok {
		return
	}
	name, hsm := r.URL.Query().Get("name"), r.URL.Query().Get("hsm_id")
	if name == "" {
		invalidParam(w, "The parameter name is required.")
		return
	}
	s.mu.Lock()
	kept := s.templates[:0]
	removed := 0
	for _, t := range s.templates {
		if t.WABAID == waba && t.Name == name && (hsm == "" || t.ID == hsm) {
			removed++
			continue
		}
		kept = append(kept, t)
	}
	s.templates = kept
	s.mu.Unlock()
	if removed == 0 {
		writeMetaError(w, http.StatusBadRequest, metaError{Message: "Invalid parameter", Code: 100, ErrorSubcode: 2593002,
			ErrorUserTitle: "Message template not found", ErrorUserMsg: "The message template " + name + " was not found."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// uploadTypes are the media types Meta's /media endpoint takes.
var uploadTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/webp": true, "video/mp4": true, "video/3gpp": true,
	"audio/aac": true, "audio/amr": true, "audio/mpeg": true, "audio/mp4": true, "audio/ogg": true,
	"text/plain": true, "application/pdf": true, "application/msword": true, "application/vnd.ms-excel": true,
	"application/vnd.ms-powerpoint":                                             true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
}

// handleUpload serves POST /{version}/{phone}/media: a multipart form with
// messaging_product=whatsapp, type and file; the file becomes a media id
// sends can use and GET /{version}/{id} can look up.
func (s *Sim) handleUpload(w http.ResponseWriter, r *http.Request) {
	phone := r.PathValue("phone")
	if !validVersion(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return
	}
	if _, ok := s.authorize(w, r, phone, "POST"); !ok {
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		invalidParam(w, "The request must be multipart/form-data with a file.")
		return
	}
	if r.FormValue("messaging_product") != "whatsapp" {
		invalidParam(w, "The parameter messaging_product is required.")
		return
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		invalidParam(w, "The parameter file is required.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		invalidParam(w, "The file could not be read.")
		return
	}
	typ := r.FormValue("type")
	if typ == "" {
		typ = h.Header.Get("Content-Type")
	}
	if !uploadTypes[typ] {
		invalidParam(w, "Param file must be a file with one of the following types: "+strings.Join(mapKeys(uploadTypes), ", ")+". Received file of type '"+typ+"'.")
		return
	}
	s.mu.Lock()
	s.seq++
	id := "media-upload-" + strconv.FormatUint(s.seq, 10)
	s.mu.Unlock()
	s.AddMedia(id, typ, data)
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// SignalEvent is an account webhook to post (POST /_sim/account-event):
// phone_number_quality_update or account_update, for the WABA of the
// number (or the single account's).
type SignalEvent struct {
	PhoneNumberID string          `json:"phone_number_id,omitempty"`
	Field         string          `json:"field"`
	Value         json.RawMessage `json:"value"`
}

// handleAccountEvent serves POST /_sim/account-event: posts a signed WABA
// webhook (quality, account or template fields) and answers the status
// the webhook got.
func (s *Sim) handleAccountEvent(w http.ResponseWriter, r *http.Request) {
	var ev SignalEvent
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&ev); err != nil || ev.Field == "" || len(ev.Value) == 0 {
		simError(w, http.StatusBadRequest, `send {"field":"phone_number_quality_update","value":{...}} (phone_number_id optional)`)
		return
	}
	acct, err := s.pickAccount(ev.PhoneNumberID)
	if err != nil {
		simError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.postWABAField(r.Context(), acct, ev.Field, ev.Value); err != nil {
		simError(w, http.StatusBadGateway, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"delivered": true})
}

// pickAccount is the account of a phone number id, or the only account.
func (s *Sim) pickAccount(phone string) (Account, error) {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	if phone != "" {
		a, ok := s.accounts[phone]
		if !ok {
			return Account{}, fmt.Errorf("no account has phone number id %q", phone)
		}
		return a, nil
	}
	if len(s.accounts) != 1 {
		return Account{}, fmt.Errorf("name the phone_number_id: the simulator has %d accounts", len(s.accounts))
	}
	for _, a := range s.accounts {
		return a, nil
	}
	return Account{}, fmt.Errorf("no accounts")
}

// handleReads serves GET /_sim/reads: the mark-as-read requests.
func (s *Sim) handleReads(w http.ResponseWriter, _ *http.Request) {
	out := s.Reads()
	if out == nil {
		out = []Read{}
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSimTemplates serves GET /_sim/templates?waba_id=: every template.
func (s *Sim) handleSimTemplates(w http.ResponseWriter, r *http.Request) {
	waba := r.URL.Query().Get("waba_id")
	s.mu.Lock()
	out := []Template{}
	for _, t := range s.templates {
		if waba == "" || t.WABAID == waba {
			out = append(out, t)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
