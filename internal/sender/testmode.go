package sender

import (
	"github.com/aws/aws-lambda-go/events"

	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/graph/sendrules"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// Test mode. A message accepted with a pytake_test_ key is stored with
// Test set (by the API, from the key; nothing else sets it). The sender
// never gives such a message to Deps.Graph: it goes to testGraph, an
// in-process stand-in built here (not injectable) that checks the body with
// Meta's rules (internal/graph/sendrules, as the local simulator does) and
// answers a wamid, and the sender then applies the sent, delivered and
// read statuses Meta would send, each marked Test, with their events. No
// WhatsApp connection, credentials or send slot are needed or used.

// testStatuses are the statuses a test message goes through, in order.
var testStatuses = []string{store.StatusSent, store.StatusDelivered, store.StatusRead}

// testGraph answers sends in process, like the Graph API.
type testGraph struct{}

// send validates body as Meta does and answers a wamid.
func (testGraph) send(body []byte) (graph.SendResult, error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(body, &b); err != nil || b == nil {
		return graph.SendResult{}, invalidParam("The request body must be a JSON object.")
	}
	snd, bad := sendrules.Validate(b)
	if bad != nil {
		return graph.SendResult{}, invalidParam(string(*bad))
	}
	var rnd [18]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	return graph.SendResult{WAMID: "wamid.TEST" + base64.RawURLEncoding.EncodeToString(rnd[:]), WaID: sendrules.NormalisePeer(snd.To)}, nil
}

// invalidParam is Meta's answer to a send that breaks a rule.
func invalidParam(msg string) *graph.Error {
	e := &graph.Error{HTTPStatus: http.StatusBadRequest, Message: "(#100) " + msg, Type: "OAuthException", Code: 100}
	e.ErrorData.Details = msg
	return e
}

// sendTest is send for a test message.
func (s *Sender) sendTest(ctx context.Context, rec events.SQSMessage, c store.Claim, log *slog.Logger) outcome {
	m := c.Message
	log = log.With("test", true)
	body, err := outbound.MetaBody(m.To, outbound.Request{Type: m.Type, Content: m.Content, ContextWAMID: m.ContextWAMID})
	if err != nil {
		return s.fail(ctx, rec, c, store.MessageError{Code: 100, Title: "invalid_message", Message: err.Error()}, log)
	}
	res, err := testGraph{}.send(body)
	if err != nil {
		var ge *graph.Error
		if !errors.As(err, &ge) {
			return s.fail(ctx, rec, c, store.MessageError{Code: 100, Title: "invalid_message", Message: err.Error()}, log)
		}
		d := outbound.Classify(err)
		return s.fail(ctx, rec, c, store.MessageError{Code: d.Code, Title: d.Class.String(), Message: d.Message, Details: d.Details}, log)
	}
	if _, err := s.acceptWithRetries(ctx, c, res.WAMID); err != nil {
		log.ErrorContext(ctx, "test message not recorded as accepted", "wamid", res.WAMID, "error", err.Error())
		return done
	}
	log.InfoContext(ctx, "test message accepted; statuses follow", "wamid", res.WAMID)
	at := s.d.Now().UTC()
	for i, status := range testStatuses {
		u := store.StatusUpdate{OrgID: m.OrgID, WAMID: res.WAMID, Status: status, Timestamp: at.Add(time.Duration(i) * time.Millisecond), Test: true}
		r, err := s.d.Store.ApplyStatus(ctx, u)
		if err != nil {
			log.WarnContext(ctx, "test status not applied", "status", status, "error", err.Error())
			return done
		}
		if !r.Applied {
			continue
		}
		if s.publishMessage(ctx, "message."+status, res.WAMID, r.Message, status, log) {
			if err := s.d.Store.MarkStatusEventsSent(ctx, m.OrgID, m.ID, status); err != nil {
				log.WarnContext(ctx, "status event published, not marked", "status", status, "error", err.Error())
			}
		}
	}
	return done
}
