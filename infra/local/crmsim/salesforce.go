package crmsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SalesforceConfig configures a Salesforce simulator.
type SalesforceConfig struct {
	ClientID     string
	ClientSecret string
	// URL is the simulator's own base URL, answered as instance_url (set
	// it once listening: SetURL).
	URL string
	Now func() time.Time
}

// Record is a created sObject.
type Record struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Fields  map[string]any `json:"fields"`
	Created time.Time      `json:"created"`
}

type sfFault struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Salesforce is the Salesforce simulator (an http.Handler).
type Salesforce struct {
	cfg SalesforceConfig
	mux *http.ServeMux

	mu         sync.Mutex
	tokens     map[string]bool
	records    []Record
	seq        int
	faults     []sfFault
	duplicates bool // a duplicate rule on Lead.Phone
	delay      time.Duration
	tokenCalls int
}

// NewSalesforce returns a simulator.
func NewSalesforce(cfg SalesforceConfig) *Salesforce {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Salesforce{cfg: cfg, mux: http.NewServeMux(), tokens: map[string]bool{}}
	s.mux.HandleFunc("POST /services/oauth2/token", s.token)
	s.mux.HandleFunc("POST /services/data/{version}/sobjects/{object}/", s.api(s.create))
	s.mux.HandleFunc("POST /services/data/{version}/sobjects/{object}", s.api(s.create))
	s.mux.HandleFunc("GET /services/data/{version}/query/", s.api(s.query))
	s.mux.HandleFunc("GET /services/data/{version}/query", s.api(s.query))
	s.mux.HandleFunc("GET /_sim/leads", s.list("Lead"))
	s.mux.HandleFunc("GET /_sim/tasks", s.list("Task"))
	s.mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"token_calls": s.tokenCalls, "records": len(s.records)})
	})
	s.mux.HandleFunc("POST /_sim/expire", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.tokens = map[string]bool{}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f sfFault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Status < 400 || f.Code == "" {
			http.Error(w, `{"error":"want {\"status\":403,\"code\":\"REQUEST_LIMIT_EXCEEDED\",\"count\":1}"}`, http.StatusBadRequest)
			return
		}
		if f.Count <= 0 {
			f.Count = 1
		}
		if f.Message == "" {
			f.Message = "simulated " + f.Code
		}
		s.mu.Lock()
		s.faults = append(s.faults, f)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /_sim/settings", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Duplicates *bool `json:"duplicates"`
			DelayMS    *int  `json:"delay_ms"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"error":"want {\"duplicates\":true,\"delay_ms\":0}"}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		if in.Duplicates != nil {
			s.duplicates = *in.Duplicates
		}
		if in.DelayMS != nil {
			s.delay = time.Duration(*in.DelayMS) * time.Millisecond
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	return s
}

// SetURL sets the instance URL the token endpoint answers.
func (s *Salesforce) SetURL(u string) {
	s.mu.Lock()
	s.cfg.URL = u
	s.mu.Unlock()
}

func (s *Salesforce) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func sfErrors(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	if fields == nil {
		fields = []string{}
	}
	writeJSON(w, status, []map[string]any{{"message": msg, "errorCode": code, "fields": fields}})
}

func (s *Salesforce) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "bad form"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	if r.PostForm.Get("client_id") != s.cfg.ClientID || r.PostForm.Get("client_secret") != s.cfg.ClientSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "00Dsim!" + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = true
	s.tokenCalls++
	u := s.cfg.URL
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "instance_url": u, "id": u + "/id/00Dsim/005sim",
		"token_type": "Bearer", "issued_at": strconv.FormatInt(s.cfg.Now().UnixMilli(), 10), "signature": "sim", "scope": "api"})
}

func (s *Salesforce) api(next func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		ok := s.tokens[tok]
		delay := s.delay
		var fault *sfFault
		if ok && len(s.faults) > 0 {
			f := s.faults[0]
			fault = &f
			if s.faults[0].Count--; s.faults[0].Count <= 0 {
				s.faults = s.faults[1:]
			}
		}
		s.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
		if !ok {
			sfErrors(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		if fault != nil {
			sfErrors(w, fault.Status, fault.Code, fault.Message)
			return
		}
		next(w, r)
	}
}

var idPrefix = map[string]string{"Lead": "00Q", "Task": "00T"}

func (s *Salesforce) create(w http.ResponseWriter, r *http.Request) {
	object := r.PathValue("object")
	prefix, ok := idPrefix[object]
	if !ok {
		sfErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	var fields map[string]any
	if err := json.NewDecoder(r.Body).Decode(&fields); err != nil {
		sfErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "invalid JSON")
		return
	}
	var missing []string
	required := map[string][]string{"Lead": {"LastName", "Company"}, "Task": {}}[object]
	for _, f := range required {
		if v, _ := fields[f].(string); strings.TrimSpace(v) == "" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		sfErrors(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if object == "Lead" && s.duplicates && r.Header.Get("Sforce-Duplicate-Rule-Header") != "allowSave=true" {
		for _, rec := range s.records {
			if rec.Type == "Lead" && rec.Fields["Phone"] == fields["Phone"] {
				sfErrors(w, http.StatusBadRequest, "DUPLICATES_DETECTED", "Use one of these records?")
				return
			}
		}
	}
	if object == "Task" {
		who, _ := fields["WhoId"].(string)
		found := false
		for _, rec := range s.records {
			found = found || rec.ID == who
		}
		if !found {
			sfErrors(w, http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", "WhoId")
			return
		}
	}
	s.seq++
	id := prefix + strings.Repeat("0", 12) + strconv.Itoa(100+s.seq)
	s.records = append(s.records, Record{ID: id, Type: object, Fields: fields, Created: s.cfg.Now()})
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

var phoneWhere = regexp.MustCompile(`(?i)^SELECT Id FROM Lead WHERE Phone = '((?:[^'\\]|\\.)*)'`)

// query answers the one SOQL PyTake sends: Leads by phone.
func (s *Salesforce) query(w http.ResponseWriter, r *http.Request) {
	m := phoneWhere.FindStringSubmatch(r.URL.Query().Get("q"))
	if m == nil {
		sfErrors(w, http.StatusBadRequest, "MALFORMED_QUERY", "the simulator answers SELECT Id FROM Lead WHERE Phone = '...' only")
		return
	}
	phone := strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[1])
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := []map[string]any{}
	for _, rec := range s.records {
		if rec.Type == "Lead" && rec.Fields["Phone"] == phone {
			recs = append(recs, map[string]any{"attributes": map[string]string{"type": "Lead"}, "Id": rec.ID})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(recs), "done": true, "records": recs})
}

func (s *Salesforce) list(object string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := []Record{}
		for _, r := range s.records {
			if r.Type == object {
				out = append(out, r)
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}
