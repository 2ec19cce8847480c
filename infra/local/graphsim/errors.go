package graphsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// metaError is Meta's error object, as the Graph API writes it.
type metaError struct {
	Message      string     `json:"message"`
	Type         string     `json:"type"`
	Code         int        `json:"code"`
	ErrorSubcode int        `json:"error_subcode,omitempty"`
	ErrorData    *errorData `json:"error_data,omitempty"`
	FBTraceID    string     `json:"fbtrace_id"`
	// ErrorUserTitle and ErrorUserMsg are what Meta adds to a refused
	// template.
	ErrorUserTitle string `json:"error_user_title,omitempty"`
	ErrorUserMsg   string `json:"error_user_msg,omitempty"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product,omitempty"`
	Details          string `json:"details"`
}

// codeInfo is what the simulator knows of a Meta error code: its title and
// the usual details.
type codeInfo struct {
	title, details string
}

// knownCode is what the simulator knows of a Meta error code.
func knownCode(code int) (codeInfo, bool) {
	switch code {
	case 0:
		return codeInfo{"AuthException", "Unable to authenticate the app user."}, true
	case 3:
		return codeInfo{"API Method", "Capability or permissions issue."}, true
	case 4:
		return codeInfo{"Application request limit reached", "Too many API calls from this app."}, true
	case 10:
		return codeInfo{"Permission denied", "Permission is either not granted or has been removed."}, true
	case 80007:
		return codeInfo{"Rate limit issues", "The WhatsApp Business Account has reached its rate limit."}, true
	case 100:
		return codeInfo{"Invalid parameter", "Invalid parameter."}, true
	case 190:
		return codeInfo{"Access token has expired", "Error validating access token: the session has expired or the token is invalid."}, true
	case 200:
		return codeInfo{"Permission error", "Permissions error."}, true
	case 368:
		return codeInfo{"Temporarily blocked for policies violations", "The account is restricted for violating platform policy."}, true
	case 130429:
		return codeInfo{"Rate limit hit", "Cloud API message throughput has been reached."}, true
	case 130472:
		return codeInfo{"User's number is part of an experiment", "Message was not sent as part of an experiment."}, true
	case 131000:
		return codeInfo{"Something went wrong", "Message failed to send due to an unknown error."}, true
	case 131005:
		return codeInfo{"Access denied", "Permission is either not granted or has been removed."}, true
	case 131008:
		return codeInfo{"Required parameter is missing", "The request is missing a required parameter."}, true
	case 131009:
		return codeInfo{"Parameter value is not valid", "One or more parameter values are invalid."}, true
	case 131016:
		return codeInfo{"Service unavailable", "A service is temporarily unavailable."}, true
	case 131021:
		return codeInfo{"Recipient cannot be sender", "Sender and recipient phone number is the same."}, true
	case 131026:
		return codeInfo{"Message undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number."}, true
	case 131030:
		return codeInfo{"Recipient phone number not in allowed list", "Recipient phone number not in allowed list: add it to the recipient list and try again."}, true
	case 131031:
		return codeInfo{"Account has been locked", "The business account was locked."}, true
	case 131042:
		return codeInfo{"Business eligibility payment issue", "There was an error related to your payment method."}, true
	case 131045:
		return codeInfo{"Incorrect certificate", "Message failed to send due to a phone number registration error."}, true
	case 131047:
		return codeInfo{"Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}, true
	case 131048:
		return codeInfo{"Spam rate limit hit", "Message failed to send because there are restrictions on how many messages can be sent from this phone number."}, true
	case 131049:
		return codeInfo{"Meta chose not to deliver.", "This message was not delivered to maintain healthy ecosystem engagement."}, true
	case 131050:
		return codeInfo{"User has stopped marketing messages", "Unable to deliver the marketing message: the user stopped marketing messages."}, true
	case 131051:
		return codeInfo{"Unsupported message type", "Message type is not currently supported."}, true
	case 131052:
		return codeInfo{"Media download error", "Unable to download the media sent by the user."}, true
	case 131053:
		return codeInfo{"Media upload error", "Unable to upload the media used in the message."}, true
	case 131056:
		return codeInfo{"(Business Account, Consumer Account) pair rate limit hit", "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time."}, true
	case 132000:
		return codeInfo{"Number of parameters does not match the expected number of params", "The number of variable parameter values does not match the number of variables in the template."}, true
	case 132001:
		return codeInfo{"Template does not exist", "The template does not exist in the specified language or the template has not been approved."}, true
	case 132005:
		return codeInfo{"Translated text too long", "Translated text is too long."}, true
	case 132007:
		return codeInfo{"Template format character policy violated", "Template content violates a WhatsApp policy."}, true
	case 132012:
		return codeInfo{"Template parameter format mismatch", "Variable parameter values formatted incorrectly."}, true
	case 132015:
		return codeInfo{"Template is paused", "Template is paused due to low quality so it cannot be sent."}, true
	case 132016:
		return codeInfo{"Template is disabled", "Template has been paused too many times due to low quality and is now permanently disabled."}, true
	case 133010:
		return codeInfo{"Phone number not registered", "Phone number not registered on the WhatsApp Business Platform."}, true
	}
	return codeInfo{}, false
}

func titleOf(code int) string {
	if c, ok := knownCode(code); ok {
		return c.title
	}
	return "Error"
}

func detailsOf(code int) string {
	if c, ok := knownCode(code); ok {
		return c.details
	}
	return ""
}

// errorType is the "type" Meta gives an error code.
func errorType(code, subcode int) string {
	if code == 100 && subcode == 33 {
		return "GraphMethodException"
	}
	return "OAuthException"
}

// writeMetaError answers with Meta's error body.
func writeMetaError(w http.ResponseWriter, status int, e metaError) {
	if e.Type == "" {
		e.Type = errorType(e.Code, e.ErrorSubcode)
	}
	if e.FBTraceID == "" {
		e.FBTraceID = traceID()
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("OAuth \"Facebook Platform\" \"invalid_token\" %q", e.Message))
	}
	writeJSON(w, status, map[string]metaError{"error": e})
}

// invalidParam is the 400 code 100 answer for a malformed send.
func invalidParam(w http.ResponseWriter, message string) {
	writeMetaError(w, http.StatusBadRequest, metaError{
		Message:   "(#100) " + message,
		Code:      100,
		ErrorData: &errorData{MessagingProduct: "whatsapp", Details: message},
	})
}

// unknownObject is Meta's answer for an id that does not exist (or the
// token cannot see): code 100, subcode 33.
func unknownObject(w http.ResponseWriter, status int, method, id string) {
	writeMetaError(w, status, metaError{
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
			strings.ToLower(method), id),
		Code:         100,
		ErrorSubcode: 33,
	})
}

// badToken is the 401 code 190 answer.
func badToken(w http.ResponseWriter, why string) {
	writeMetaError(w, http.StatusUnauthorized, metaError{
		Message: "Error validating access token: " + why,
		Code:    190,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// simError answers a /_sim/ request the simulator cannot serve.
func simError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]map[string]string{"error": {"message": fmt.Sprintf(format, args...)}})
}

// traceID imitates an fbtrace_id.
func traceID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:23]
}

// newWAMID returns a fresh wamid shaped like Meta's: "wamid." and the
// base64 of a small binary record naming the peer, with a per-Sim sequence
// number and random bytes that make it unique.
func (s *Sim) newWAMID(peer string) string {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	rnd := make([]byte, 6)
	_, _ = rand.Read(rnd)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], seq)
	tail := strings.ToUpper(fmt.Sprintf("%x%x", id[4:], rnd))
	if len(peer) > 64 {
		peer = peer[:64]
	}
	rec := make([]byte, 0, 32+len(peer)+len(tail))
	rec = append(rec, 0x1c, 0x18, byte(len(peer)))
	rec = append(rec, peer...)
	rec = append(rec, 0x15, 0x02, 0x00, 0x11, 0x18, byte(len(tail)))
	rec = append(rec, tail...)
	rec = append(rec, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(rec)
}
