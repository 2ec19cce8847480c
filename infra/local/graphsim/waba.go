package graphsim

import (
	"net/http"
	"sort"
)

// handleGetEdge serves GET /{version}/{id}/{edge}: the phone_numbers edge
// of a WABA; any other edge is unknown, as on Meta.
func (s *Sim) handleGetEdge(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("edge") {
	case "phone_numbers":
		s.handleWABAPhoneNumbers(w, r)
	case "message_templates":
		s.handleListTemplates(w, r)
	default:
		s.handleUnknown(w, r)
	}
}

// handleWABAPhoneNumbers serves GET /{version}/{waba_id}/phone_numbers: the
// WABA's numbers, for a token of one of them, in Meta's shape ({"data":
// [...], "paging": {"cursors": {...}}}, one page). A WABA the simulator
// does not serve, or a token of another WABA's number, gets Meta's unknown
// object error (100, subcode 33), as a token without access to the WABA
// does.
func (s *Sim) handleWABAPhoneNumbers(w http.ResponseWriter, r *http.Request) {
	waba := r.PathValue("id")
	if !validVersion(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return
	}
	token, ok := s.knownBearer(w, r)
	if !ok {
		return
	}
	s.acctMu.RLock()
	var numbers []Account
	allowed := false
	for _, a := range s.accounts {
		if a.WABAID != waba {
			continue
		}
		numbers = append(numbers, a)
		if a.AccessToken == token {
			allowed = true
		}
	}
	s.acctMu.RUnlock()
	if !allowed {
		unknownObject(w, http.StatusBadRequest, http.MethodGet, waba)
		return
	}
	sort.Slice(numbers, func(i, j int) bool { return numbers[i].PhoneNumberID < numbers[j].PhoneNumberID })
	data := make([]map[string]any, 0, len(numbers))
	for _, a := range numbers {
		data = append(data, map[string]any{
			"verified_name":            a.VerifiedName,
			"code_verification_status": "VERIFIED",
			"display_phone_number":     a.DisplayPhoneNumber,
			"quality_rating":           "GREEN",
			"platform_type":            "CLOUD_API",
			"throughput":               a.throughput(),
			"id":                       a.PhoneNumberID,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"data":   data,
		"paging": map[string]any{"cursors": map[string]string{"before": "QVFIUk1", "after": "QVFIUk1"}},
	})
}
