package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Fault makes the next matching sends fail. Faults are matched in the order
// they were queued; an empty PhoneNumberID or To matches any.
type Fault struct {
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	To            string `json:"to,omitempty"` // compared on digits (or exactly, for a BSUID)
	Code          int    `json:"code"`         // Meta error code, e.g. 130429
	Subcode       int    `json:"error_subcode,omitempty"`
	// HTTPStatus of the failed answer. Zero means 401 for code 190, 500
	// for 131000 and 131016, 400 otherwise. Code 131047 always answers 400
	// and code 190 always 401, as Meta does.
	HTTPStatus int `json:"http_status,omitempty"`
	// Message replaces the error message: default "(#<code>) <title>" in
	// an answer, "<title>" in a failed status.
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"` // error_data.details; default per code
	Count   int    `json:"count,omitempty"`   // how many sends fail (default 1)
	// RetryAfter, in seconds, adds a Retry-After header to the answer.
	RetryAfter int `json:"retry_after,omitempty"`
	// Async accepts the send (200 and a wamid) and then posts a failed
	// status webhook carrying the error, instead of sent/delivered/read.
	Async bool `json:"async,omitempty"`
}

// normalised fills a Fault's defaults.
func (f Fault) normalised() Fault {
	if f.Count < 1 {
		f.Count = 1
	}
	switch {
	case f.Code == 131047:
		f.HTTPStatus = http.StatusBadRequest
	case f.Code == 190:
		f.HTTPStatus = http.StatusUnauthorized
	case f.HTTPStatus == 0 && (f.Code == 131000 || f.Code == 131016):
		f.HTTPStatus = http.StatusInternalServerError
	case f.HTTPStatus == 0:
		f.HTTPStatus = http.StatusBadRequest
	}
	if f.Details == "" {
		f.Details = detailsOf(f.Code)
	}
	f.To = normalisePeer(f.To)
	return f
}

// answerMessage is the message of the error answer.
func (f Fault) answerMessage() string {
	if f.Message != "" {
		return f.Message
	}
	return fmt.Sprintf("(#%d) %s", f.Code, titleOf(f.Code))
}

// statusMessage is the message of the failed status.
func (f Fault) statusMessage() string {
	if f.Message != "" {
		return f.Message
	}
	return titleOf(f.Code)
}

func (f *Fault) matches(phoneNumberID, to string) bool {
	return (f.PhoneNumberID == "" || f.PhoneNumberID == phoneNumberID) &&
		(f.To == "" || f.To == normalisePeer(to))
}

// Fail queues f.
func (s *Sim) Fail(f Fault) {
	f = f.normalised()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every queued fault.
func (s *Sim) ClearFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = nil
	return n
}

// Faults lists the queued faults with their remaining counts.
func (s *Sim) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// takeFaultLocked consumes one use of the first fault matching a send.
// Callers hold s.mu.
func (s *Sim) takeFaultLocked(phoneNumberID, to string) (Fault, bool) {
	for i, f := range s.faults {
		if !f.matches(phoneNumberID, to) {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return *f, true
	}
	return Fault{}, false
}

func (s *Sim) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Fault
		Code *int `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		simError(w, http.StatusBadRequest, "fault: %v", err)
		return
	}
	if in.Code == nil {
		simError(w, http.StatusBadRequest, "fault: code is required (a Meta error code, e.g. 130429)")
		return
	}
	if in.Fault.HTTPStatus != 0 && (in.Fault.HTTPStatus < 400 || in.Fault.HTTPStatus > 599) {
		simError(w, http.StatusBadRequest, "fault: http_status must be 4xx or 5xx, got %d", in.Fault.HTTPStatus)
		return
	}
	if in.Fault.Count < 0 {
		simError(w, http.StatusBadRequest, "fault: count must be positive, got %d", in.Fault.Count)
		return
	}
	f := in.Fault
	f.Code = *in.Code
	s.Fail(f)
	writeJSON(w, http.StatusCreated, map[string]any{"queued": f.normalised(), "pending": len(s.Faults())})
}

func (s *Sim) handleClearFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int{"cleared": s.ClearFaults()})
}

func (s *Sim) handleListFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

// decodeJSON reads one JSON object from r's body (at most 4 MB).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	return nil
}

const maxBody = 4 << 20
