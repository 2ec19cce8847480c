package graphsim

import (
	"maps"
	"net/http"
	"slices"
)

// Sent lists the accepted sends, oldest first.
func (s *Sim) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Stats are the simulator's counters.
type Stats struct {
	Accepted          int            `json:"accepted"`     // sends answered 200
	Rejected          map[int]int    `json:"rejected"`     // refused sends by Meta error code
	AsyncFailed       int            `json:"async_failed"` // accepted sends that got a failed status
	MarkedRead        int            `json:"marked_read"`  // mark-as-read requests
	Inbound           int            `json:"inbound"`      // simulated customer messages
	WebhooksDelivered int            `json:"webhooks_delivered"`
	WebhooksFailed    int            `json:"webhooks_failed"` // given up (statuses) or non-2xx (inbound)
	WebhookRetries    int            `json:"webhook_retries"`
	PendingFaults     int            `json:"pending_faults"`
	MaxPerSecond      map[string]int `json:"max_per_second"` // by phone number id
}

// Stats returns the counters so far.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Accepted:          s.stats.accepted,
		Rejected:          maps.Clone(s.stats.rejected),
		AsyncFailed:       s.stats.asyncFailed,
		MarkedRead:        s.stats.markedRead,
		Inbound:           s.stats.inbound,
		WebhooksDelivered: s.stats.webhooksDelivered,
		WebhooksFailed:    s.stats.webhooksFailed,
		WebhookRetries:    s.stats.webhookRetries,
		MaxPerSecond:      make(map[string]int, len(s.rates)),
	}
	for _, f := range s.faults {
		st.PendingFaults += f.Count
	}
	for phone, rw := range s.rates {
		st.MaxPerSecond[phone] = rw.max
	}
	return st
}

// handleMessages serves GET /_sim/messages?to=&phone_number_id=&type=.
func (s *Sim) handleMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to, phone, typ := normalisePeer(q.Get("to")), q.Get("phone_number_id"), q.Get("type")
	out := []Sent{}
	for _, m := range s.Sent() {
		if (to == "" || normalisePeer(m.To) == to) && (phone == "" || m.PhoneNumberID == phone) && (typ == "" || m.Type == typ) {
			out = append(out, m)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Sim) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
}
