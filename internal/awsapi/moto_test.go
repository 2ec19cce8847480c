package awsapi

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moto starts moto_server (MOTO_SERVER, else the repository's
// .local/venv/bin/moto_server) on a free port for the test, or skips it.
// env (KEY=value) is added to the server's environment.
func moto(t *testing.T, env ...string) aws.Config {
	t.Helper()
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		bin, _ = filepath.Abs(filepath.Join("..", "..", ".local", "venv", "bin", "moto_server"))
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no moto_server at %s (make tools)", bin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), env...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Timeout: 15 * time.Second},
	}
}

func TestMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto in -short")
	}
	cfg := moto(t)
	ctx := context.Background()
	sdk := sqs.NewFromConfig(cfg)

	receive := func(t *testing.T, url string) []sqstypes.Message {
		t.Helper()
		out, err := sdk.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		return out.Messages
	}

	t.Run("sqs", func(t *testing.T) {
		q, err := sdk.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("awsapi-q")})
		require.NoError(t, err)
		c := NewSQS(cfg)
		out, err := c.SendMessageBatch(ctx, &SendMessageBatchInput{QueueURL: *q.QueueUrl, Entries: []SendMessageEntry{
			{ID: "0", Body: `{"n":0}`, Attributes: map[string]string{"event": "message.received"}},
			{ID: "1", Body: `{"n":1}`},
		}})
		require.NoError(t, err)
		assert.Empty(t, out.Failed)
		assert.Len(t, out.Successful, 2)
		msgs := receive(t, *q.QueueUrl)
		require.Len(t, msgs, 2)
		bodies := map[string]sqstypes.Message{}
		for _, m := range msgs {
			bodies[*m.Body] = m
		}
		require.Contains(t, bodies, `{"n":0}`)
		a := bodies[`{"n":0}`].MessageAttributes["event"]
		assert.Equal(t, "message.received", aws.ToString(a.StringValue))
		assert.Equal(t, "String", aws.ToString(a.DataType))

		// Visible again at once: received a second time.
		require.NoError(t, c.ChangeMessageVisibility(ctx, &ChangeMessageVisibilityInput{QueueURL: *q.QueueUrl, ReceiptHandle: *msgs[0].ReceiptHandle, VisibilityTimeout: 0}))
		again := receive(t, *q.QueueUrl)
		require.Len(t, again, 1)
		assert.Equal(t, *msgs[0].Body, *again[0].Body)

		// A queue that does not exist is an error with its code.
		_, err = c.SendMessageBatch(ctx, &SendMessageBatchInput{QueueURL: *q.QueueUrl + "-nope", Entries: []SendMessageEntry{{ID: "0", Body: "x"}}})
		require.Error(t, err)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.NotEmpty(t, e.Code)
		assert.Equal(t, 400, e.Status)

		// FIFO: group and deduplication ids reach SQS (a repeat is dropped).
		fifo, err := sdk.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("awsapi-q.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
		require.NoError(t, err)
		for range 2 {
			out, err := c.SendMessageBatch(ctx, &SendMessageBatchInput{QueueURL: *fifo.QueueUrl, Entries: []SendMessageEntry{{ID: "0", Body: "f", GroupID: "g1", DedupID: "d1"}}})
			require.NoError(t, err)
			assert.Empty(t, out.Failed)
		}
		got, err := sdk.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: fifo.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		require.NoError(t, err)
		require.Len(t, got.Messages, 1)
		assert.Equal(t, "g1", got.Messages[0].Attributes["MessageGroupId"])
		assert.Equal(t, "d1", got.Messages[0].Attributes["MessageDeduplicationId"])
	})

	t.Run("sns", func(t *testing.T) {
		q, err := sdk.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("awsapi-sub")})
		require.NoError(t, err)
		qa, err := sdk.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		require.NoError(t, err)
		snsc := sns.NewFromConfig(cfg)
		topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("awsapi-topic")})
		require.NoError(t, err)
		_, err = snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"])})
		require.NoError(t, err)

		c := NewSNS(cfg)
		out, err := c.PublishBatch(ctx, &PublishBatchInput{TopicARN: *topic.TopicArn, Entries: []PublishEntry{
			{ID: "0", Message: `{"a":"x & <y>"}`, Attributes: map[string]string{"event": "message.received", "org": "org_1"}},
			{ID: "1", Message: `{"b":2}`},
		}})
		require.NoError(t, err)
		assert.Empty(t, out.Failed)
		assert.Len(t, out.Successful, 2)
		msgs := receive(t, *q.QueueUrl)
		require.Len(t, msgs, 2)
		found := false
		for _, m := range msgs {
			var env struct {
				Message           string
				MessageAttributes map[string]struct{ Type, Value string }
			}
			require.NoError(t, json.Unmarshal([]byte(*m.Body), &env))
			if env.Message == `{"a":"x & <y>"}` {
				found = true
				assert.Equal(t, "message.received", env.MessageAttributes["event"].Value)
				assert.Equal(t, "org_1", env.MessageAttributes["org"].Value)
				assert.Equal(t, "String", env.MessageAttributes["event"].Type)
			}
		}
		assert.True(t, found, "the published message did not arrive: %v", msgs)

		_, err = c.PublishBatch(ctx, &PublishBatchInput{TopicARN: *topic.TopicArn + "-nope", Entries: []PublishEntry{{ID: "0", Message: "m"}}})
		require.Error(t, err)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "NotFound", e.Code)
	})

	t.Run("secretsmanager", func(t *testing.T) {
		c := NewSecretsManager(cfg)
		const name = "pytake/test/org/org_1/whatsapp"
		_, err := c.GetSecretValue(ctx, &GetSecretValueInput{SecretID: name})
		assert.True(t, HasCode(err, ResourceNotFound), "get a missing secret: %v", err)
		assert.True(t, HasCode(c.PutSecretValue(ctx, &PutSecretValueInput{SecretID: name, SecretString: "x"}), ResourceNotFound))

		require.NoError(t, c.CreateSecret(ctx, &CreateSecretInput{Name: name, Description: "d", SecretString: `{"v":1}`, Tags: []Tag{{Key: "pytake:org", Value: "org_1"}}}))
		err = c.CreateSecret(ctx, &CreateSecretInput{Name: name, SecretString: `{"v":1}`})
		assert.True(t, HasCode(err, ResourceExists), "create it again: %v", err)
		got, err := c.GetSecretValue(ctx, &GetSecretValueInput{SecretID: name})
		require.NoError(t, err)
		assert.Equal(t, `{"v":1}`, got.SecretString)
		assert.Equal(t, name, got.Name)

		require.NoError(t, c.PutSecretValue(ctx, &PutSecretValueInput{SecretID: name, SecretString: `{"v":2}`}))
		got, err = c.GetSecretValue(ctx, &GetSecretValueInput{SecretID: name})
		require.NoError(t, err)
		assert.Equal(t, `{"v":2}`, got.SecretString)

		require.NoError(t, c.DeleteSecret(ctx, &DeleteSecretInput{SecretID: name, ForceDeleteWithoutRecovery: true}))
		_, err = c.GetSecretValue(ctx, &GetSecretValueInput{SecretID: name})
		assert.True(t, HasCode(err, ResourceNotFound), "get a deleted secret: %v", err)
	})
}

// TestMotoSignatures runs the three services with moto checking every
// request's SigV4 signature (it recomputes it with botocore, another
// implementation than the SDK signer that signs here): bodies with spaces,
// '+', '~', '&', '=', '%', newlines and non-ASCII text, in SNS's form
// encoding and in JSON, arrive with a valid signature under a role
// session's credentials (a session token, as in Lambda); a wrong secret
// key or a missing token is refused.
func TestMotoSignatures(t *testing.T) {
	if testing.Short() {
		t.Skip("moto in -short")
	}
	// The first five actions (an IAM user with a key and a policy, a role
	// it may assume) are not checked; every later one is. The services are
	// called with the role's session, as in Lambda: with a session token.
	cfg := moto(t, "INITIAL_NO_AUTH_ACTION_COUNT=5")
	ctx := context.Background()
	query := func(cfg aws.Config, service, version, op string, form url.Values) *xnode {
		form.Set("Action", op)
		form.Set("Version", version)
		h := http.Header{}
		h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		b, err := newCaller(cfg, service, parseXMLError).call(ctx, op, h, []byte(form.Encode()))
		require.NoError(t, err, op)
		root, err := parseXML(b)
		require.NoError(t, err, op)
		return root
	}
	text := func(n *xnode, name string) string { return strings.TrimSpace(n.find(name).text) }
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	user := query(cfg, "iam", "2010-05-08", "CreateUser", url.Values{"UserName": {"awsapi"}})
	key := query(cfg, "iam", "2010-05-08", "CreateAccessKey", url.Values{"UserName": {"awsapi"}})
	query(cfg, "iam", "2010-05-08", "PutUserPolicy", url.Values{"UserName": {"awsapi"}, "PolicyName": {"all"}, "PolicyDocument": {allowAll}})
	role := query(cfg, "iam", "2010-05-08", "CreateRole", url.Values{"RoleName": {"fn"}, "AssumeRolePolicyDocument": {
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + text(user, "Arn") + `"},"Action":"sts:AssumeRole"}]}`}})
	query(cfg, "iam", "2010-05-08", "PutRolePolicy", url.Values{"RoleName": {"fn"}, "PolicyName": {"all"}, "PolicyDocument": {allowAll}})
	userCfg := cfg.Copy()
	userCfg.Credentials = credentials.NewStaticCredentialsProvider(text(key, "AccessKeyId"), text(key, "SecretAccessKey"), "")
	session := query(userCfg, "sts", "2011-06-15", "AssumeRole", url.Values{"RoleArn": {text(role, "Arn")}, "RoleSessionName": {"s"}})
	id, secret, token := text(session, "AccessKeyId"), text(session, "SecretAccessKey"), text(session, "SessionToken")
	require.NotEmpty(t, token)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)

	const tricky = "a+b c~d&e=f%20g\nh\u00e9 \U0001F600 *'()!?/;:@$,[]{}|^`<>"
	sdk := sqs.NewFromConfig(cfg)
	q, err := sdk.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("signed-q")})
	require.NoError(t, err)
	out, err := NewSQS(cfg).SendMessageBatch(ctx, &SendMessageBatchInput{QueueURL: *q.QueueUrl, Entries: []SendMessageEntry{
		{ID: "0", Body: tricky, Attributes: map[string]string{"k": tricky}}}})
	require.NoError(t, err)
	assert.Empty(t, out.Failed)

	snsc := sns.NewFromConfig(cfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("signed-topic")})
	require.NoError(t, err)
	pout, err := NewSNS(cfg).PublishBatch(ctx, &PublishBatchInput{TopicARN: *topic.TopicArn, Entries: []PublishEntry{
		{ID: "0", Message: tricky, Attributes: map[string]string{"k k": tricky}}}})
	require.NoError(t, err)
	assert.Empty(t, pout.Failed)

	sm := NewSecretsManager(cfg)
	require.NoError(t, sm.CreateSecret(ctx, &CreateSecretInput{Name: "signed/secret", SecretString: tricky}))
	got, err := sm.GetSecretValue(ctx, &GetSecretValueInput{SecretID: "signed/secret"})
	require.NoError(t, err)
	assert.Equal(t, tricky, got.SecretString)

	// The check is on: the same request under a wrong secret key fails.
	bad := cfg.Copy()
	bad.Credentials = credentials.NewStaticCredentialsProvider(id, secret+"x", token)
	_, err = NewSecretsManager(bad).GetSecretValue(ctx, &GetSecretValueInput{SecretID: "signed/secret"})
	require.Error(t, err)
	_, err = NewSNS(bad).PublishBatch(ctx, &PublishBatchInput{TopicARN: *topic.TopicArn, Entries: []PublishEntry{{ID: "0", Message: tricky}}})
	require.ErrorContains(t, err, "SignatureDoesNotMatch")
	_, err = NewSQS(bad).SendMessageBatch(ctx, &SendMessageBatchInput{QueueURL: *q.QueueUrl, Entries: []SendMessageEntry{{ID: "0", Body: tricky}}})
	require.Error(t, err)
	// And a session without its token.
	bad.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	_, err = NewSecretsManager(bad).GetSecretValue(ctx, &GetSecretValueInput{SecretID: "signed/secret"})
	require.Error(t, err)
}
