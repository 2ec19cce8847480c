// Package crmsim simulates the parts of HubSpot's and Salesforce's APIs
// PyTake's CRM sync uses, for the local stack and tests. HubSpot: CRM v3
// contacts (read, search, create) and notes, bearer-token checked, and
// webhooks signed as HubSpot signs them (v3, or v2) posted to PyTake.
// Salesforce: the OAuth 2.0 client credentials token endpoint and the REST
// API's Lead and Task creates and a SOQL look-up of Leads by phone, with
// Salesforce's error shapes. Each has a test-only control surface under
// /_sim/ (faults, a revoked or expired token, what was created).
package crmsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/hubspot"
)

// HubSpotConfig configures a HubSpot simulator.
type HubSpotConfig struct {
	PortalID     int64
	AppID        int64
	AccessToken  string // the private app token API calls must carry
	ClientSecret string // signs the webhooks
	WebhookURL   string // PyTake's /webhooks/hubspot
	HTTPClient   *http.Client
	Now          func() time.Time
}

// HubSpot is the HubSpot simulator (an http.Handler).
type HubSpot struct {
	cfg HubSpotConfig
	mux *http.ServeMux

	mu       sync.Mutex
	seq      int64
	contacts map[string]map[string]string
	notes    []Note
	faults   []hsFault
	revoked  bool
	calls    int
}

// Note is a note created through the API.
type Note struct {
	ID        string            `json:"id"`
	Body      string            `json:"hs_note_body"`
	Timestamp string            `json:"hs_timestamp"`
	ContactID string            `json:"contact_id"`
	TypeID    int               `json:"association_type_id"`
	Raw       map[string]string `json:"-"`
}

type hsFault struct {
	Status     int    `json:"status"`
	RetryAfter string `json:"retry_after"`
	Count      int    `json:"count"`
}

// NewHubSpot returns a simulator.
func NewHubSpot(cfg HubSpotConfig) *HubSpot {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &HubSpot{cfg: cfg, mux: http.NewServeMux(), contacts: map[string]map[string]string{}, seq: 1000}
	h.mux.HandleFunc("GET /crm/v3/objects/contacts/{id}", h.api(h.getContact))
	h.mux.HandleFunc("POST /crm/v3/objects/contacts", h.api(h.createContact))
	h.mux.HandleFunc("POST /crm/v3/objects/contacts/search", h.api(h.search))
	h.mux.HandleFunc("POST /crm/v3/objects/notes", h.api(h.createNote))
	h.mux.HandleFunc("POST /_sim/contacts", h.simContact)
	h.mux.HandleFunc("POST /_sim/webhook", h.simWebhook)
	h.mux.HandleFunc("GET /_sim/notes", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		writeJSON(w, http.StatusOK, append([]Note{}, h.notes...))
	})
	h.mux.HandleFunc("GET /_sim/contacts", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		out := []map[string]any{}
		for id, p := range h.contacts {
			out = append(out, map[string]any{"id": id, "properties": p})
		}
		writeJSON(w, http.StatusOK, out)
	})
	h.mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f hsFault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Status < 400 {
			http.Error(w, `{"error":"want {\"status\":429,\"retry_after\":\"1\",\"count\":1}"}`, http.StatusBadRequest)
			return
		}
		if f.Count <= 0 {
			f.Count = 1
		}
		h.mu.Lock()
		h.faults = append(h.faults, f)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	h.mux.HandleFunc("POST /_sim/revoke", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		h.revoked = true
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	h.mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"api_calls": h.calls, "contacts": len(h.contacts), "notes": len(h.notes)})
	})
	return h
}

func (h *HubSpot) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func hsError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "message": msg, "correlationId": "sim", "category": category})
}

// api checks the bearer token and injected faults before a handler.
func (h *HubSpot) api(next func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.calls++
		revoked := h.revoked
		var fault *hsFault
		if len(h.faults) > 0 {
			f := h.faults[0]
			fault = &f
			if h.faults[0].Count--; h.faults[0].Count <= 0 {
				h.faults = h.faults[1:]
			}
		}
		h.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+h.cfg.AccessToken || revoked {
			hsError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
			return
		}
		if fault != nil {
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			if fault.Status == http.StatusTooManyRequests {
				writeJSON(w, fault.Status, map[string]any{"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
					"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "category": "RATE_LIMITS"})
				return
			}
			hsError(w, fault.Status, "INTERNAL_ERROR", "simulated failure")
			return
		}
		next(w, r)
	}
}

func (h *HubSpot) view(id string, props []string) map[string]any {
	p := h.contacts[id]
	out := map[string]string{"hs_object_id": id}
	for _, k := range props {
		if v, ok := p[k]; ok {
			out[k] = v
		}
	}
	return map[string]any{"id": id, "properties": out, "archived": false}
}

func (h *HubSpot) getContact(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := h.contacts[id]; !ok {
		hsError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	props := strings.Split(r.URL.Query().Get("properties"), ",")
	writeJSON(w, http.StatusOK, h.view(id, props))
}

func (h *HubSpot) add(props map[string]string) string {
	h.seq++
	id := strconv.FormatInt(h.seq, 10)
	h.contacts[id] = props
	return id
}

func (h *HubSpot) createContact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties map[string]string `json:"properties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Properties == nil {
		hsError(w, http.StatusBadRequest, "VALIDATION_ERROR", "properties are required")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.add(in.Properties)
	keys := make([]string, 0, len(in.Properties))
	for k := range in.Properties {
		keys = append(keys, k)
	}
	writeJSON(w, http.StatusCreated, h.view(id, keys))
}

func (h *HubSpot) search(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName string `json:"propertyName"`
				Operator     string `json:"operator"`
				Value        string `json:"value"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Properties []string `json:"properties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		hsError(w, http.StatusBadRequest, "VALIDATION_ERROR", "invalid search")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	results := []map[string]any{}
	for id, p := range h.contacts {
		for _, g := range in.FilterGroups {
			all := true
			for _, f := range g.Filters {
				if f.Operator != "EQ" || p[f.PropertyName] != f.Value {
					all = false
				}
			}
			if all && len(g.Filters) > 0 {
				results = append(results, h.view(id, in.Properties))
				break
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(results), "results": results})
}

func (h *HubSpot) createNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties   map[string]string `json:"properties"`
		Associations []struct {
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				Category string `json:"associationCategory"`
				TypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"associations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Properties["hs_timestamp"] == "" {
		hsError(w, http.StatusBadRequest, "VALIDATION_ERROR", "hs_timestamp is required")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := Note{Body: in.Properties["hs_note_body"], Timestamp: in.Properties["hs_timestamp"]}
	for _, a := range in.Associations {
		if _, ok := h.contacts[a.To.ID]; !ok {
			hsError(w, http.StatusBadRequest, "VALIDATION_ERROR", "association target "+a.To.ID+" not found")
			return
		}
		n.ContactID = a.To.ID
		if len(a.Types) > 0 {
			n.TypeID = a.Types[0].TypeID
		}
	}
	h.seq++
	n.ID = strconv.FormatInt(h.seq, 10)
	h.notes = append(h.notes, n)
	writeJSON(w, http.StatusCreated, map[string]any{"id": n.ID, "properties": in.Properties})
}

// simContact creates a contact as a HubSpot user would and, unless
// "notify" is false, posts the contact.creation webhook.
func (h *HubSpot) simContact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties map[string]string `json:"properties"`
		Notify     *bool             `json:"notify"`
		Sign       string            `json:"sign"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, `{"error":"want {\"properties\":{\"phone\":...}}"}`, http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	id := h.add(in.Properties)
	h.mu.Unlock()
	out := map[string]any{"id": id}
	if in.Notify == nil || *in.Notify {
		n, _ := strconv.ParseInt(id, 10, 64)
		status, body, err := h.Deliver([]hubspot.Event{h.Event(hubspot.ContactCreation, n, "", "")}, in.Sign)
		out["webhook_status"], out["webhook_body"] = status, body
		if err != nil {
			out["webhook_error"] = err.Error()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// simWebhook posts a batch: {"events":[...], "sign":"v3|v2|none|stale", "times":1}.
func (h *HubSpot) simWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Events []hubspot.Event `json:"events"`
		Sign   string          `json:"sign"`
		Times  int             `json:"times"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Events) == 0 {
		http.Error(w, `{"error":"want {\"events\":[...]}"}`, http.StatusBadRequest)
		return
	}
	if in.Times <= 0 {
		in.Times = 1
	}
	var statuses []int
	for i := 0; i < in.Times; i++ {
		for j := range in.Events {
			in.Events[j].AttemptNumber = i
		}
		st, _, err := h.Deliver(in.Events, in.Sign)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		statuses = append(statuses, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"statuses": statuses})
}

// Event is a webhook event of this portal about a contact.
func (h *HubSpot) Event(typ string, objectID int64, prop, value string) hubspot.Event {
	h.mu.Lock()
	h.seq++
	id := h.seq
	h.mu.Unlock()
	return hubspot.Event{EventID: id, SubscriptionID: 4242, PortalID: h.cfg.PortalID, AppID: h.cfg.AppID,
		OccurredAt: h.cfg.Now().UnixMilli(), SubscriptionType: typ, ObjectID: objectID, ChangeSource: "CRM",
		PropertyName: prop, PropertyValue: value}
}

// Deliver posts a batch to the webhook URL, signed: "v3" (default), "v2",
// "none", or "stale" (v3 with a timestamp 10 minutes old).
func (h *HubSpot) Deliver(evs []hubspot.Event, sign string) (int, string, error) {
	body, err := json.Marshal(evs)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(http.MethodPost, h.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	now := h.cfg.Now()
	switch sign {
	case "", "v3", "stale":
		if sign == "stale" {
			now = now.Add(-10 * time.Minute)
		}
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		req.Header.Set("X-HubSpot-Request-Timestamp", ts)
		req.Header.Set("X-HubSpot-Signature-v3", hubspot.SignV3(h.cfg.ClientSecret, http.MethodPost, h.cfg.WebhookURL, body, ts))
	case "v2":
		req.Header.Set("X-HubSpot-Signature-Version", "v2")
		req.Header.Set("X-HubSpot-Signature", hubspot.SignV2(h.cfg.ClientSecret, http.MethodPost, h.cfg.WebhookURL, body))
	case "none":
	default:
		return 0, "", fmt.Errorf("sign: v3, v2, none or stale, not %q", sign)
	}
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}
