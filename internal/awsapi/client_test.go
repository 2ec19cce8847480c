package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token"}

// seen is one request a test server received.
type seen struct {
	header http.Header
	host   string
	body   []byte
}

// server answers each request with the next of replies (the last one
// repeats) and records what it received.
type server struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []seen
	replies []func(w http.ResponseWriter, r *http.Request)
	srv     *httptest.Server
}

func newServer(t *testing.T, replies ...func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{t: t, replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{header: r.Header.Clone(), host: r.Host, body: b})
		reply := s.replies[min(len(s.reqs), len(s.replies))-1]
		s.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func (s *server) config() aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, testCreds.SessionToken),
		HTTPClient:   s.srv.Client(),
		BaseEndpoint: aws.String(s.srv.URL),
	}
}

func reply(status int, body string, header ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// sleeps records the backoffs instead of waiting them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func fast(c *caller) *sleeps {
	s := &sleeps{}
	c.sleep = s.sleep
	return s
}

// verifySignature re-signs the received request with the v4 signer and
// the same time, and checks the Authorization header matches: the client
// signed exactly what the server received.
func verifySignature(t *testing.T, r seen, service, region string) {
	t.Helper()
	auth := r.header.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 "), "authorization %q", auth)
	when, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	require.NoError(t, err)
	scope := "Credential=" + testCreds.AccessKeyID + "/" + when.Format("20060102") + "/" + region + "/" + service + "/aws4_request"
	require.Contains(t, auth, scope)
	require.Equal(t, testCreds.SessionToken, r.header.Get("X-Amz-Security-Token"))
	_, signed, ok := strings.Cut(auth, "SignedHeaders=")
	require.True(t, ok)
	signed, _, _ = strings.Cut(signed, ",")
	req, err := http.NewRequest(http.MethodPost, "http://"+r.host+"/", bytes.NewReader(r.body))
	require.NoError(t, err)
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "content-length" {
			req.Header.Set(h, r.header.Get(h))
		}
	}
	req.Header.Del("Authorization")
	req.Header.Del("X-Amz-Date")
	req.Header.Del("X-Amz-Security-Token")
	require.Contains(t, signed, "x-amz-date")
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), testCreds, req, payloadHash(r.body), service, region, when))
	assert.Equal(t, req.Header.Get("Authorization"), auth, "the signature does not match the request the server received")
}

func payloadHash(b []byte) string { return sha256Hex(b) }

func TestSQSSendMessageBatch(t *testing.T) {
	s := newServer(t, reply(200, `{"Successful":[{"Id":"0","MessageId":"m0","MD5OfMessageBody":"x"}],"Failed":[{"Id":"1","Code":"InternalError","Message":"try again","SenderFault":false}]}`))
	c := NewSQS(s.config())
	out, err := c.SendMessageBatch(context.Background(), &SendMessageBatchInput{
		QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo",
		Entries: []SendMessageEntry{
			{ID: "0", Body: `{"a":1}`, GroupID: "g", DedupID: "d", DelaySeconds: 5, Attributes: map[string]string{"event": "message.received"}},
			{ID: "1", Body: "two"},
			{ID: "2", Body: "three"},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []BatchSuccess{{ID: "0", MessageID: "m0"}}, out.Successful)
	require.Len(t, out.Failed, 2)
	assert.Equal(t, BatchFailure{ID: "1", Code: "InternalError", Message: "try again"}, out.Failed[0])
	assert.Equal(t, "2", out.Failed[1].ID, "an entry the response leaves out is not taken as sent")
	assert.Equal(t, "MissingResult", out.Failed[1].Code)

	r := s.requests()
	require.Len(t, r, 1)
	assert.Equal(t, "AmazonSQS.SendMessageBatch", r[0].header.Get("X-Amz-Target"))
	assert.Equal(t, "application/x-amz-json-1.0", r[0].header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(r[0].body, &body))
	assert.Equal(t, map[string]any{
		"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo",
		"Entries": []any{
			map[string]any{"Id": "0", "MessageBody": `{"a":1}`, "MessageGroupId": "g", "MessageDeduplicationId": "d", "DelaySeconds": float64(5),
				"MessageAttributes": map[string]any{"event": map[string]any{"DataType": "String", "StringValue": "message.received"}}},
			map[string]any{"Id": "1", "MessageBody": "two"},
			map[string]any{"Id": "2", "MessageBody": "three"},
		},
	}, body)
	verifySignature(t, r[0], "sqs", "eu-west-1")
}

func TestSQSChangeMessageVisibility(t *testing.T) {
	s := newServer(t, reply(200, `{}`))
	c := NewSQS(s.config())
	require.NoError(t, c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh", VisibilityTimeout: 30}))
	r := s.requests()
	require.Len(t, r, 1)
	assert.Equal(t, "AmazonSQS.ChangeMessageVisibility", r[0].header.Get("X-Amz-Target"))
	assert.JSONEq(t, `{"QueueUrl":"u","ReceiptHandle":"rh","VisibilityTimeout":30}`, string(r[0].body))
	verifySignature(t, r[0], "sqs", "eu-west-1")
}

func TestSNSPublishBatch(t *testing.T) {
	resp := `<?xml version="1.0"?>
<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishBatchResult>
    <Successful><member><Id>0</Id><MessageId>m-0</MessageId></member></Successful>
    <Failed><member><Id>1</Id><Code>InternalError</Code><Message>a &lt;b&gt; &amp; c</Message><SenderFault>false</SenderFault></member></Failed>
  </PublishBatchResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</PublishBatchResponse>`
	s := newServer(t, reply(200, resp, "Content-Type", "text/xml"))
	c := NewSNS(s.config())
	out, err := c.PublishBatch(context.Background(), &PublishBatchInput{TopicARN: "arn:aws:sns:eu-west-1:123456789012:t", Entries: []PublishEntry{
		{ID: "0", Message: `{"x":"a&b=c"}`, Attributes: map[string]string{"event": "message.received", "org": "org_1"}},
		{ID: "1", Message: "two"},
	}})
	require.NoError(t, err)
	assert.Equal(t, []BatchSuccess{{ID: "0", MessageID: "m-0"}}, out.Successful)
	assert.Equal(t, []BatchFailure{{ID: "1", Code: "InternalError", Message: "a <b> & c"}}, out.Failed)

	r := s.requests()
	require.Len(t, r, 1)
	assert.Equal(t, "application/x-www-form-urlencoded; charset=utf-8", r[0].header.Get("Content-Type"))
	assert.Empty(t, r[0].header.Get("X-Amz-Target"))
	form, err := url.ParseQuery(string(r[0].body))
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"Action": {"PublishBatch"}, "Version": {"2010-03-31"}, "TopicArn": {"arn:aws:sns:eu-west-1:123456789012:t"},
		"PublishBatchRequestEntries.member.1.Id":                                          {"0"},
		"PublishBatchRequestEntries.member.1.Message":                                     {`{"x":"a&b=c"}`},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name":              {"event"},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType":    {"String"},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue": {"message.received"},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.2.Name":              {"org"},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.2.Value.DataType":    {"String"},
		"PublishBatchRequestEntries.member.1.MessageAttributes.entry.2.Value.StringValue": {"org_1"},
		"PublishBatchRequestEntries.member.2.Id":                                          {"1"},
		"PublishBatchRequestEntries.member.2.Message":                                     {"two"},
	}, form)
	verifySignature(t, r[0], "sns", "eu-west-1")
}

func TestSNSErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		code     string
		attempts int
	}{
		{"not found", 404, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, "NotFound", 1},
		{"throttled", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`, "Throttling", 3},
		{"batch too long", 400, `<ErrorResponse><Error><Code>BatchRequestTooLong</Code><Message>too long</Message></Error></ErrorResponse>`, "BatchRequestTooLong", 1},
		{"garbage error", 502, `<html>bad gateway`, "", 3},
		{"200 garbage", 200, `not xml at all`, "", 1},
		{"200 wrong document", 200, `<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>`, "", 1},
		{"200 truncated", 200, `<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id>`, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, reply(tt.status, tt.body))
			c := NewSNS(s.config())
			fast(c.c)
			_, err := c.PublishBatch(context.Background(), &PublishBatchInput{TopicARN: "arn", Entries: []PublishEntry{{ID: "0", Message: "m"}}})
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.code, e.Code)
			assert.Len(t, s.requests(), tt.attempts)
		})
	}
}

func TestSNSEmptyResultIsNotSuccess(t *testing.T) {
	// A 200 that names no entry (a proxy's canned page, a truncated
	// result) must not read as "all published".
	s := newServer(t, reply(200, `<PublishBatchResponse><PublishBatchResult/></PublishBatchResponse>`))
	out, err := NewSNS(s.config()).PublishBatch(context.Background(), &PublishBatchInput{TopicARN: "arn", Entries: []PublishEntry{{ID: "0", Message: "m"}, {ID: "1", Message: "n"}}})
	require.NoError(t, err)
	assert.Len(t, out.Failed, 2)
}

func TestSecretsManager(t *testing.T) {
	s := newServer(t,
		reply(200, `{"ARN":"arn:s","Name":"n","VersionId":"v1","SecretString":"{\"k\":\"v\"}","CreatedDate":1.7e9,"VersionStages":["AWSCURRENT"]}`),
		reply(200, `{"ARN":"arn:s","Name":"n"}`),
		reply(200, `{"ARN":"arn:s","Name":"n","VersionId":"v2"}`),
		reply(200, `{"ARN":"arn:s","Name":"n","DeletionDate":1.7e9}`),
	)
	c := NewSecretsManager(s.config())
	ctx := context.Background()
	out, err := c.GetSecretValue(ctx, &GetSecretValueInput{SecretID: "n"})
	require.NoError(t, err)
	assert.Equal(t, GetSecretValueOutput{ARN: "arn:s", Name: "n", VersionID: "v1", SecretString: `{"k":"v"}`}, *out)
	require.NoError(t, c.CreateSecret(ctx, &CreateSecretInput{Name: "n", Description: "d", SecretString: "s3cret", Tags: []Tag{{Key: "pytake:org", Value: "org_1"}}}))
	require.NoError(t, c.PutSecretValue(ctx, &PutSecretValueInput{SecretID: "n", SecretString: "s3cret2"}))
	require.NoError(t, c.DeleteSecret(ctx, &DeleteSecretInput{SecretID: "n", ForceDeleteWithoutRecovery: true}))

	r := s.requests()
	require.Len(t, r, 4)
	for i, op := range []string{"GetSecretValue", "CreateSecret", "PutSecretValue", "DeleteSecret"} {
		assert.Equal(t, "secretsmanager."+op, r[i].header.Get("X-Amz-Target"))
		assert.Equal(t, "application/x-amz-json-1.1", r[i].header.Get("Content-Type"))
		verifySignature(t, r[i], "secretsmanager", "eu-west-1")
	}
	assert.JSONEq(t, `{"SecretId":"n"}`, string(r[0].body))
	var create, put map[string]any
	require.NoError(t, json.Unmarshal(r[1].body, &create))
	require.NoError(t, json.Unmarshal(r[2].body, &put))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, create["ClientRequestToken"])
	assert.NotEqual(t, create["ClientRequestToken"], put["ClientRequestToken"])
	delete(create, "ClientRequestToken")
	delete(put, "ClientRequestToken")
	assert.Equal(t, map[string]any{"Name": "n", "Description": "d", "SecretString": "s3cret", "Tags": []any{map[string]any{"Key": "pytake:org", "Value": "org_1"}}}, create)
	assert.Equal(t, map[string]any{"SecretId": "n", "SecretString": "s3cret2"}, put)
	assert.JSONEq(t, `{"SecretId":"n","ForceDeleteWithoutRecovery":true}`, string(r[3].body))
}

func TestSecretsManagerErrorCodes(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		body   string
		code   string
	}{
		{"plain", nil, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`, ResourceNotFound},
		{"namespaced", nil, `{"__type":"com.amazonaws.secretsmanager#ResourceExistsException","Message":"exists"}`, ResourceExists},
		{"header", []string{"X-Amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/"}, `{}`, ResourceNotFound},
		{"not json", nil, `<html>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, reply(400, tt.body, tt.header...))
			_, err := NewSecretsManager(s.config()).GetSecretValue(context.Background(), &GetSecretValueInput{SecretID: "n"})
			require.Error(t, err)
			assert.Equal(t, tt.code != "", HasCode(err, tt.code))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, 400, e.Status)
			assert.Len(t, s.requests(), 1, "a 400 that is not a throttle is not retried")
		})
	}
}

func TestRetries(t *testing.T) {
	ok := reply(200, `{}`)
	tests := []struct {
		name     string
		replies  []func(http.ResponseWriter, *http.Request)
		wantErr  string
		attempts int
		throttle bool // waits from 1 s, not 50 ms
	}{
		{"500 then ok", []func(http.ResponseWriter, *http.Request){reply(500, `{"__type":"InternalError"}`), ok}, "", 2, false},
		{"503 always", []func(http.ResponseWriter, *http.Request){reply(503, ``)}, "status 503", 3, false},
		{"429 then ok", []func(http.ResponseWriter, *http.Request){reply(429, ``), ok}, "", 2, true},
		{"throttling 400", []func(http.ResponseWriter, *http.Request){reply(400, `{"__type":"ThrottlingException"}`), ok}, "", 2, true},
		{"request throttled", []func(http.ResponseWriter, *http.Request){reply(400, `{"__type":"com.amazonaws.sqs#RequestThrottled"}`), ok}, "", 2, true},
		{"SNS internal error 400", []func(http.ResponseWriter, *http.Request){reply(400, `{"__type":"InternalFailure"}`), ok}, "", 2, false},
		{"validation 400", []func(http.ResponseWriter, *http.Request){reply(400, `{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"bad"}`)}, "InvalidParameterValue: bad", 1, false},
		{"403", []func(http.ResponseWriter, *http.Request){reply(403, `{"__type":"AccessDeniedException"}`)}, "AccessDeniedException", 1, false},
		{"connection dropped then ok", []func(http.ResponseWriter, *http.Request){hangUp, ok}, "", 2, false},
		{"truncated body then ok", []func(http.ResponseWriter, *http.Request){truncated, ok}, "", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.replies...)
			c := NewSQS(s.config())
			sl := fast(c.c.caller)
			err := c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			assert.Len(t, s.requests(), tt.attempts)
			require.Len(t, sl.d, tt.attempts-1)
			base := 50 * time.Millisecond
			if tt.throttle {
				base = time.Second
			}
			for i, d := range sl.d {
				assert.True(t, d >= 0 && d < base<<i, "backoff %d: %s, want under %s", i, d, base<<i)
			}
		})
	}
}

func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func truncated(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{\"Succ")
	_ = buf.Flush()
	conn.Close()
}

func TestContextEndsRetries(t *testing.T) {
	s := newServer(t, reply(500, ``))
	c := NewSQS(s.config())
	ctx, cancel := context.WithCancel(context.Background())
	c.c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := c.ChangeMessageVisibility(ctx, &ChangeMessageVisibilityInput{QueueURL: "u"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, s.requests(), 1)
}

func TestSlowServerHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := NewSQS(s.config())
	fast(c.c.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.ChangeMessageVisibility(ctx, &ChangeMessageVisibilityInput{QueueURL: "u"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, s.requests(), 1, "no retry once the context is done")
}

func TestResponseSizeCap(t *testing.T) {
	huge := `{"Successful":[],"pad":"` + strings.Repeat("x", MaxResponseBytes) + `"}`
	s := newServer(t, reply(200, huge))
	c := NewSQS(s.config())
	fast(c.c.caller)
	_, err := c.SendMessageBatch(context.Background(), &SendMessageBatchInput{QueueURL: "u", Entries: []SendMessageEntry{{ID: "0", Body: "b"}}})
	require.ErrorContains(t, err, "response larger than")
	assert.Len(t, s.requests(), 1)
}

func TestGarbageJSON(t *testing.T) {
	for _, body := range []string{`not json`, `{"Successful":[{"Id":0}]}`, ``} {
		s := newServer(t, reply(200, body))
		c := NewSQS(s.config())
		fast(c.c.caller)
		out, err := c.SendMessageBatch(context.Background(), &SendMessageBatchInput{QueueURL: "u", Entries: []SendMessageEntry{{ID: "0", Body: "b"}}})
		require.Error(t, err, "body %q gave %+v", body, out)
		assert.Len(t, s.requests(), 1, "a 200 is not sent again: the batch may have been sent")
	}
}

func TestSQSEmptyResultIsNotSuccess(t *testing.T) {
	for _, body := range []string{`{}`, `null`, `{"Successful":[{"Id":"other"}]}`} {
		s := newServer(t, reply(200, body))
		out, err := NewSQS(s.config()).SendMessageBatch(context.Background(), &SendMessageBatchInput{QueueURL: "u", Entries: []SendMessageEntry{{ID: "0", Body: "b"}, {ID: "1", Body: "c"}}})
		require.NoError(t, err)
		assert.Len(t, out.Failed, 2, "body %s", body)
	}
}

func TestUnreadableSecretNotQuoted(t *testing.T) {
	s := newServer(t, reply(200, `{"SecretString":"hunter2-secret-value"`))
	_, err := NewSecretsManager(s.config()).GetSecretValue(context.Background(), &GetSecretValueInput{SecretID: "n"})
	require.ErrorContains(t, err, "unreadable response")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestRedirectNotFollowed(t *testing.T) {
	elsewhere := newServer(t, reply(200, `{}`))
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+"/", http.StatusTemporaryRedirect)
	})
	c := NewSecretsManager(s.config())
	err := c.PutSecretValue(context.Background(), &PutSecretValueInput{SecretID: "n", SecretString: "s3cret"})
	require.Error(t, err)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusTemporaryRedirect, e.Status)
	assert.Empty(t, elsewhere.requests(), "a signed request and its secret went to the redirect's target")
}

func TestErrorsLeakNothing(t *testing.T) {
	for _, r := range []func(http.ResponseWriter, *http.Request){reply(500, `{"__type":"InternalFailure"}`), hangUp, reply(400, strings.Repeat("y", 5000))} {
		s := newServer(t, r)
		c := NewSecretsManager(s.config())
		fast(c.c.caller)
		err := c.CreateSecret(context.Background(), &CreateSecretInput{Name: "n", SecretString: "hunter2-secret-value"})
		require.Error(t, err)
		msg := err.Error()
		for _, leak := range []string{"hunter2", "Signature=", testCreds.SecretAccessKey, testCreds.SessionToken, "AKIDEXAMPLE"} {
			assert.NotContains(t, msg, leak)
		}
		assert.Less(t, len(msg), 1000)
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		cfg  aws.Config
		want string
	}{
		{aws.Config{Region: "us-east-1"}, "https://sqs.us-east-1.amazonaws.com/"},
		{aws.Config{Region: "cn-north-1"}, "https://sqs.cn-north-1.amazonaws.com.cn/"},
		{aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:5000")}, "http://127.0.0.1:5000/"},
		{aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:5000/")}, "http://127.0.0.1:5000/"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Endpoint(tt.cfg, "sqs"))
	}
}

func TestNoCredentials(t *testing.T) {
	s := newServer(t, reply(200, `{}`))
	cfg := s.config()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return aws.Credentials{}, errors.New("expired") })
	err := NewSQS(cfg).ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{})
	require.ErrorContains(t, err, "expired")
	assert.Empty(t, s.requests())
}

// A retry whose backoff would end after the context's deadline is not
// waited for: the call returns the service's error at once, leaving the
// caller (a Lambda handler) the rest of its time to report the failure.
func TestBackoffPastDeadlineNotWaited(t *testing.T) {
	s := newServer(t, reply(429, `{"__type":"ThrottlingException"}`))
	c := NewSQS(s.config())
	sl := fast(c.c.caller)
	c.c.jitter = func() float64 { return 0.9 } // a 900 ms backoff (throttled: from 1 s)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.ChangeMessageVisibility(ctx, &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 429, e.Status)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, sl.d, "no wait that outlasts the deadline")
	assert.Len(t, s.requests(), 1)
	assert.NoError(t, ctx.Err(), "returned before the deadline")
}

// Failures that repeat on every attempt are not retried, as in the SDK's
// standard mode: a 5xx other than 500, 502, 503 and 504 (501 Not
// Implemented, 505), and a host name that does not exist.
func TestPermanentFailuresNotRetried(t *testing.T) {
	for _, status := range []int{501, 505} {
		s := newServer(t, reply(status, ``))
		c := NewSQS(s.config())
		sl := fast(c.c.caller)
		err := c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
		require.ErrorContains(t, err, "status "+strconv.Itoa(status))
		assert.Len(t, s.requests(), 1, "status %d", status)
		assert.Empty(t, sl.d)
	}

	attempts := 0
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient: &http.Client{Transport: roundTripper(func(*http.Request) (*http.Response, error) {
			attempts++
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "sqs.eu-west-1.amazonaws.com", IsNotFound: true}}
		})}}
	c := NewSQS(cfg)
	sl := fast(c.c.caller)
	err := c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
	require.ErrorContains(t, err, "no such host")
	assert.Equal(t, 1, attempts)
	assert.Empty(t, sl.d)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A long service message is clipped on a character boundary: the error's
// text (logged as JSON) stays valid UTF-8.
func TestClippedMessageIsUTF8(t *testing.T) {
	s := newServer(t, reply(400, `{"__type":"InvalidParameterValue","message":"a`+strings.Repeat("é", 400)+`"}`))
	c := NewSQS(s.config())
	fast(c.c.caller)
	err := c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
	require.Error(t, err)
	assert.True(t, utf8.ValidString(err.Error()), "%q", err.Error())
	assert.Contains(t, err.Error(), "...")
}

// Retries draw on a bucket, as in the standard mode of the SDK this module
// pins (v1.48): 500 tokens, 14 a retry, 5 after a throttling error.
// Through an outage a client stops retrying once the bucket is empty (a
// call is then one attempt, not three), and successes fill it again: 1
// token each, or what their retry took.
func TestRetryQuota(t *testing.T) {
	var status atomic.Int64
	status.Store(503)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n := int(status.Load()); n != 200 {
			reply(n, ``)(w, r)
			return
		}
		reply(200, `{}`)(w, r)
	})
	c := NewSQS(s.config())
	fast(c.c.caller)
	call := func() error {
		return c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"})
	}
	attempts := func(wantErr bool) int {
		before := len(s.requests())
		if err := call(); wantErr {
			require.Error(t, err)
		} else {
			require.NoError(t, err)
		}
		return len(s.requests()) - before
	}
	// 17 calls of 2 retries at 14 leave 24 tokens: one retry more.
	for i := 0; i < 17; i++ {
		require.Equal(t, 3, attempts(true), "call %d", i)
	}
	require.Equal(t, 2, attempts(true), "24 tokens: one retry")
	require.Equal(t, 1, attempts(true), "10 tokens: no retry")
	status.Store(200)
	for i := 0; i < 3; i++ {
		require.Equal(t, 1, attempts(false))
	}
	status.Store(503)
	require.Equal(t, 1, attempts(true), "13 tokens: 3 successes gave back 1 each")
	status.Store(200)
	require.Equal(t, 1, attempts(false))
	status.Store(503)
	require.Equal(t, 2, attempts(true), "14 tokens: one retry")
	require.Equal(t, 0, c.c.quota.tokens)

	// A throttled call's retry costs 5.
	status.Store(200)
	for i := 0; i < 5; i++ {
		require.Equal(t, 1, attempts(false))
	}
	status.Store(429)
	require.Equal(t, 2, attempts(true), "5 tokens: one throttled retry")
	require.Equal(t, 0, c.c.quota.tokens)
}

// A success after a retry gives back what the retry took, not 1.
func TestRetryThenSuccessGivesItsCostBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(http.ResponseWriter, *http.Request)
	}{
		{"503", reply(503, ``)},
		{"throttled", reply(400, `{"__type":"ThrottlingException"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.first, reply(200, `{}`))
			c := NewSQS(s.config())
			fast(c.c.caller)
			c.c.quota.tokens = 100
			require.NoError(t, c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"}))
			assert.Len(t, s.requests(), 2)
			assert.Equal(t, 100, c.c.quota.tokens)
		})
	}
}

// X-Amz-Retry-After (milliseconds) moves a retry's wait within [the
// backoff, the backoff + 5 s], as the SDK does.
func TestRetryAfterHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 25 * time.Millisecond},        // half of the 50 ms base
		{"10", 25 * time.Millisecond},      // not under the backoff
		{"1500", 1500 * time.Millisecond},  // within the window
		{"60000", 5025 * time.Millisecond}, // at most 5 s more
		{"soon", 25 * time.Millisecond},    // not a number: ignored
	} {
		t.Run(tc.header, func(t *testing.T) {
			h := []string{}
			if tc.header != "" {
				h = []string{"X-Amz-Retry-After", tc.header}
			}
			s := newServer(t, reply(503, ``, h...), reply(200, `{}`))
			c := NewSQS(s.config())
			sl := fast(c.c.caller)
			c.c.jitter = func() float64 { return 0.5 }
			require.NoError(t, c.ChangeMessageVisibility(context.Background(), &ChangeMessageVisibilityInput{QueueURL: "u", ReceiptHandle: "rh"}))
			assert.Equal(t, []time.Duration{tc.want}, sl.d)
		})
	}
}
