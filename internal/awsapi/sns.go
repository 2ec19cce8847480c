package awsapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SNS calls Amazon SNS (the query protocol: a form-encoded request, an XML
// response).
type SNS struct{ c *caller }

// NewSNS returns an SNS client for cfg.
func NewSNS(cfg aws.Config) *SNS {
	return &SNS{c: newCaller(cfg, "sns", parseXMLError)}
}

// PublishBatchInput is up to ten messages for one standard topic.
type PublishBatchInput struct {
	TopicARN string
	Entries  []PublishEntry
}

// PublishEntry is one message; Attributes are String message attributes.
type PublishEntry struct {
	ID         string
	Message    string
	Attributes map[string]string
}

// PublishBatch publishes the entries.
func (s *SNS) PublishBatch(ctx context.Context, in *PublishBatchInput) (*BatchOutput, error) {
	const op = "PublishBatch"
	form := url.Values{"Action": {op}, "Version": {"2010-03-31"}, "TopicArn": {in.TopicARN}}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
		m := "PublishBatchRequestEntries.member." + strconv.Itoa(i+1) + "."
		form.Set(m+"Id", e.ID)
		form.Set(m+"Message", e.Message)
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for j, k := range keys {
			a := m + "MessageAttributes.entry." + strconv.Itoa(j+1) + "."
			form.Set(a+"Name", k)
			form.Set(a+"Value.DataType", "String")
			form.Set(a+"Value.StringValue", e.Attributes[k])
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	b, err := s.c.call(ctx, op, h, []byte(form.Encode()))
	if err != nil {
		return nil, err
	}
	out, err := parsePublishBatch(b)
	if err != nil {
		return nil, &Error{Service: "sns", Op: op, Status: http.StatusOK, Message: "unreadable response: " + err.Error()}
	}
	out.account(ids)
	return out, nil
}

// parsePublishBatch reads a PublishBatchResponse.
func parsePublishBatch(b []byte) (*BatchOutput, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, err
	}
	res := root.child("PublishBatchResult")
	if root.name != "PublishBatchResponse" || res == nil {
		return nil, errXML
	}
	out := &BatchOutput{}
	if s := res.child("Successful"); s != nil {
		for _, m := range s.kids {
			if m.name == "member" {
				out.Successful = append(out.Successful, BatchSuccess{ID: m.childText("Id"), MessageID: m.childText("MessageId")})
			}
		}
	}
	if f := res.child("Failed"); f != nil {
		for _, m := range f.kids {
			if m.name == "member" {
				out.Failed = append(out.Failed, BatchFailure{ID: m.childText("Id"), Code: m.childText("Code"),
					Message: m.childText("Message"), SenderFault: m.childText("SenderFault") == "true"})
			}
		}
	}
	return out, nil
}

// parseXMLError reads a query protocol ErrorResponse
// (<ErrorResponse><Error><Code>...</Code><Message>...</Message></Error><RequestId>...).
func parseXMLError(h http.Header, body []byte) (code, msg, reqID string) {
	root, err := parseXML(body)
	if err != nil {
		return "", "", h.Get("X-Amzn-Requestid")
	}
	e := root.find("Error")
	if r := root.find("RequestId"); r != nil {
		reqID = strings.TrimSpace(r.text)
	}
	return e.childText("Code"), e.childText("Message"), reqID
}
