package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// jsonCaller speaks the AWS JSON protocol (SQS: 1.0, Secrets Manager: 1.1).
type jsonCaller struct {
	*caller
	contentType string
	prefix      string // X-Amz-Target's service part ("AmazonSQS")
}

// do sends in as the op's JSON body and decodes a 2xx answer into out
// (unless out is nil).
func (c jsonCaller) do(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("awsapi: %s %s: encode: %w", c.service, op, err)
	}
	h := http.Header{}
	h.Set("Content-Type", c.contentType)
	h.Set("X-Amz-Target", c.prefix+"."+op)
	b, err := c.call(ctx, op, h, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		// Not err's text: a decoding error may quote the body (a secret).
		return &Error{Service: c.service, Op: op, Status: http.StatusOK, Message: fmt.Sprintf("unreadable response (%d bytes)", len(b))}
	}
	return nil
}

// parseJSONError reads a JSON protocol error: the code from the
// X-Amzn-ErrorType header or the body's __type (either may be namespaced,
// "com.amazonaws.sqs#QueueDoesNotExist", or carry a ":..." suffix).
func parseJSONError(h http.Header, body []byte) (code, msg, reqID string) {
	var e struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON leaves the status alone to speak
	code = h.Get("X-Amzn-Errortype")
	if code == "" {
		code = e.Type
	}
	if code == "" {
		code = e.Code
	}
	code = sanitizeCode(code)
	msg = e.Message
	if msg == "" {
		msg = e.Message2
	}
	return code, msg, h.Get("X-Amzn-Requestid")
}

func sanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}
