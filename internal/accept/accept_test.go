package accept_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type fixture struct {
	st     *store.Store
	stream *storetest.Stream
	tbl    *storetest.Table
	a      *accept.Accepter
	org    string
}

func newFixture(t *testing.T) *fixture {
	tbl := storetest.New(t)
	stream := storetest.NewStream(tbl.Client)
	f := &fixture{st: store.New(stream, tbl.Name, time.Now), stream: stream, tbl: tbl}
	org, err := f.st.CreateOrganization(context.Background(), "A")
	require.NoError(t, err)
	f.org = org.ID
	f.a = accept.New(f.st)
	return f
}

// queued lists the message ids of the outbound jobs written to the outbox,
// in order: what the relay puts on the outbound queue.
func (f *fixture) queued(t *testing.T) []string {
	t.Helper()
	obs, err := f.stream.Outboxes(0)
	require.NoError(t, err)
	var ids []string
	for _, o := range obs {
		if o.Job != nil {
			require.Equal(t, f.org, o.Job.OrgID)
			require.NotEmpty(t, o.Job.ContactID)
			ids = append(ids, o.Job.MessageID)
		}
	}
	return ids
}

func template(t *testing.T, to string) outbound.Request {
	r, err := outbound.BodyTemplate(to, "order_confirmation", "pt_BR", []string{"1001"})
	require.NoError(t, err)
	return r
}

func TestAcceptStoresAndQueuesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), IdempotencyKey: "k1", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, first.Message.Status, "accepted %+v", first)
	require.True(t, first.ContactCreated, "accepted %+v", first)
	require.Equal(t, "5511999999999", first.Message.To, "accepted %+v", first)
	again, err := f.a.Accept(ctx, m)
	require.NoError(t, err, "replay %+v %v", again, err)
	require.True(t, again.Replayed, "replay %+v %v", again, err)
	require.Equal(t, first.Message.ID, again.Message.ID, "replay %+v %v", again, err)
	require.Equal(t, []string{first.Message.ID}, f.queued(t), "queued once")
	m.Fingerprint = []byte("b")
	_, err = f.a.Accept(ctx, m)
	require.True(t, accept.Refused(err), "key reused with another request: %v", err)
	require.True(t, apperr.Is(err, apperr.Conflict), "key reused with another request")
	require.Equal(t, []string{first.Message.ID}, f.queued(t), "a refused request wrote a job")
}

func TestAcceptRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	text, err := outbound.Text("5511988887777", "Olá")
	require.NoError(t, err)
	tests := []struct {
		name string
		req  outbound.Request
		kind apperr.Kind
	}{
		{"free-form outside the window", text, apperr.Unprocessable},
		{"unknown contact", template(t, "ct_missing1"), apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: tt.req})
			require.True(t, apperr.Is(err, tt.kind), "err = %v", err)
			require.True(t, accept.Refused(err), "err")
		})
	}
	require.Empty(t, f.queued(t), "a refused message is not queued")
	require.False(t, accept.Refused(apperr.New(apperr.Unavailable, "down")), "a transient error counts as refused")
	require.False(t, accept.Refused(errors.New("x")), "a transient error counts as refused")
}

// The outbound job is written in the accepting transaction: a transaction
// that fails writes neither the message nor its job, one that commits
// writes both, whatever happens to the caller afterwards (its answer lost,
// the invocation ended), and a retry with the key replays it without a
// second job. Accepting never calls the queue, so it never fails after
// storing a message.
func TestAcceptJobIsPartOfTheTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "5511999999992"), IdempotencyKey: "k2", Fingerprint: []byte("a")}

	down := accept.New(store.New(failingTransact{f.stream}, f.tbl.Name, time.Now))
	_, err := down.Accept(ctx, m)
	require.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	require.Empty(t, f.queued(t), "a transaction that failed wrote a job")

	lost := accept.New(store.New(lostAnswer{f.stream}, f.tbl.Name, time.Now))
	_, err = lost.Accept(ctx, m)
	require.Error(t, err, "the answer was lost")
	require.Len(t, f.queued(t), 1, "the committed transaction's job")

	retry, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.True(t, retry.Replayed)
	require.Equal(t, []string{retry.Message.ID}, f.queued(t), "a replay writes no second job")
	got, err := f.st.Message(ctx, f.org, retry.Message.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, got.Status)
}

// A message accepted before outbox items existed, whose enqueue failed,
// has an idempotency key not marked enqueued: its replay queues it through
// the outbox, once however often it is replayed.
func TestAcceptReplayRequeuesALegacyMessageOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "5511999999993"), IdempotencyKey: "k3", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	f.unmarkEnqueued(t, "k3")
	for i := 0; i < 3; i++ {
		res, err := f.a.Accept(ctx, m)
		require.NoError(t, err)
		require.True(t, res.Replayed)
	}
	require.Equal(t, []string{first.Message.ID, first.Message.ID}, f.queued(t), "the accepting job and one requeue")
}

// A test key's message requeued on replay keeps its mode: its job is
// admitted under the organisation's test share (LIMIT#admit#<org>#test),
// like the job written when it was accepted, never the live one.
func TestAcceptReplayRequeuesATestMessageUnderItsTestShare(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "5511999999994"), IdempotencyKey: "k4", Fingerprint: []byte("a"), Test: true}
	_, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	f.unmarkEnqueued(t, "test:k4")
	res, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.True(t, res.Replayed)
	obs, err := f.stream.Outboxes(0)
	require.NoError(t, err)
	var shares []string
	for _, o := range obs {
		if o.Job != nil {
			shares = append(shares, o.Job.AdmitKey())
		}
	}
	require.Equal(t, []string{f.org + "#test", f.org + "#test"}, shares, "the accepting job and the requeue")
}

// A live request never replays a test message nor a test request a live
// one, whatever Idempotency-Key the caller picks: test keys' keys are
// prefixed "test:", so a live key sending "test:k" with the same body as a
// test key's "k" names the same stored key. Replaying it would answer the
// live caller with a message that never reaches Meta (or a test caller
// with a live one, re-queued).
func TestAcceptIdempotencyNeverCrossesModes(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		firstTest, laterTest bool
		firstKey, laterKey   string
	}{
		{"live after test", true, false, "k", "test:k"},
		{"test after live", false, true, "test:k", "k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), Fingerprint: []byte("same body")}
			m.IdempotencyKey, m.Test = tc.firstKey, tc.firstTest
			first, err := f.a.Accept(ctx, m)
			require.NoError(t, err)
			require.Equal(t, tc.firstTest, first.Message.Test)
			m.IdempotencyKey, m.Test = tc.laterKey, tc.laterTest
			later, err := f.a.Accept(ctx, m)
			if err == nil {
				require.False(t, later.Replayed, "a %v request replayed a %v message", tc.laterTest, tc.firstTest)
				require.Equal(t, tc.laterTest, later.Message.Test)
				return
			}
			require.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
			require.Len(t, f.queued(t), 1, "queued")
		})
	}
}

// Once the organisation's copy of its templates is synced, a template
// message is checked against it before anything is stored or queued.
func TestAcceptChecksTemplatesOnceSynced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	two := func() outbound.Request {
		r, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "pt_BR", []string{"1001", "R$ 10"})
		require.NoError(t, err)
		return r
	}
	// Never synced: sent as it is (Meta would judge it).
	_, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "+5511999999999")})
	require.NoError(t, err)
	_, err = f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY",
		Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Pedido {{1}} de {{2}} confirmado."}]`)},
		{ID: "2", Name: "order_confirmation", Language: "en_US", Category: "UTILITY", Status: "PENDING",
			Components: []byte(`[{"type":"BODY","text":"Order {{1}} of {{2}} confirmed."}]`)}})
	require.NoError(t, err)
	queued := len(f.queued(t))
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "+5511999999999")})
	require.True(t, accept.Refused(err), "one parameter for two: %v", err)
	e, _ := apperr.As(err)
	require.Equal(t, "template_parameter_mismatch", e.Code, "%v", err)
	require.Contains(t, e.Message, "the body expects 2 parameters, not 1")
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: two()})
	require.NoError(t, err, "the right count")
	wrongLang, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "es", []string{"1", "2"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: wrongLang})
	e, _ = apperr.As(err)
	require.Equal(t, "template_not_found", e.Code, "%v", err)
	require.Contains(t, e.Message, "it has en_US, pt_BR")
	pending, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "en_US", []string{"1", "2"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: pending})
	e, _ = apperr.As(err)
	require.Equal(t, "template_not_approved", e.Code, "%v", err)
	require.Len(t, f.queued(t), queued+1, "only the right one is queued")
}

// A retry of an accepted template message (same Idempotency-Key) is a
// replay even when its template has been paused since: the client learns
// its message was accepted, not that it was refused.
func TestTemplateRetryIsAReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	comps := []byte(`[{"type":"BODY","text":"Pedido {{1}} confirmado."}]`)
	_, err := f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Status: "APPROVED", Components: comps}})
	require.NoError(t, err)
	m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), IdempotencyKey: "order-1", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	_, err = f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Status: "PAUSED", Components: comps}})
	require.NoError(t, err)
	again, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Replayed)
	require.Equal(t, first.Message.ID, again.Message.ID)
	// A new key is refused.
	m.IdempotencyKey = "order-2"
	_, err = f.a.Accept(ctx, m)
	e, _ := apperr.As(err)
	require.Equal(t, "template_not_approved", e.Code, "%v", err)
}

// A MARKETING template to a contact that opted out is refused 422
// contact_opted_out; a UTILITY template and a service reply inside the
// window still go; a new consent lets marketing through again.
func TestMarketingToOptedOutContact(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := []byte(`[{"type":"BODY","text":"Oferta para {{1}}."}]`)
	_, err := f.st.SyncTemplates(ctx, f.org, []store.Template{
		{ID: "1", Name: "promo", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: body},
		{ID: "2", Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED", Components: body}})
	require.NoError(t, err)
	in, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: "5511999999999"}, WAMID: "wamid.in1",
		Type: "text", Timestamp: time.Now(), Content: []byte(`{"text":"parar"}`), Raw: []byte(`{}`)})
	require.NoError(t, err)
	promo, err := outbound.BodyTemplate("+5511999999999", "promo", "pt_BR", []string{"Maria"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: promo})
	require.NoError(t, err, "not opted out yet")
	_, changed, err := f.st.OptOutContact(ctx, f.org, in.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR", MessageID: in.Message.ID})
	require.NoError(t, err)
	require.True(t, changed)
	queued := len(f.queued(t))
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: promo})
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "contact_opted_out", e.Code, "%v", err)
	require.Equal(t, apperr.Unprocessable, e.Kind)
	// By contact id too.
	byID, err := outbound.BodyTemplate(in.Contact.ID, "promo", "pt_BR", []string{"Maria"})
	require.NoError(t, err)
	byID.ToKind, byID.To = outbound.ToContact, in.Contact.ID
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: byID})
	e, _ = apperr.As(err)
	require.Equal(t, "contact_opted_out", e.Code, "by contact id: %v", err)
	utility, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "pt_BR", []string{"1001"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: utility})
	require.NoError(t, err, "a utility template still goes")
	text, err := outbound.Text("+5511999999999", "Tudo certo, não enviaremos mais ofertas.")
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: text})
	require.NoError(t, err, "a service reply inside the window still goes")
	require.Len(t, f.queued(t), queued+2)
	_, err = f.st.OptInContact(ctx, f.org, in.Contact.ID, nil)
	require.NoError(t, err)
	c, err := f.st.Contact(ctx, f.org, in.Contact.ID)
	require.NoError(t, err)
	require.Nil(t, c.OptOut, "opted in: %+v", c)
	require.NotNil(t, c.OptedInAt)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: promo})
	require.NoError(t, err, "after a new consent")
}

// failingTransact fails every transaction, without effect.
type failingTransact struct{ store.DB }

func (failingTransact) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errors.New("connection reset")
}

// lostAnswer commits every transaction and answers an error.
type lostAnswer struct{ store.DB }

func (l lostAnswer) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if _, err := l.DB.TransactWriteItems(ctx, in, opts...); err != nil {
		return nil, err
	}
	return nil, errors.New("connection reset after the commit")
}

// unmarkEnqueued makes an idempotency key look as one written before
// outbox items existed, whose enqueue failed.
func (f *fixture) unmarkEnqueued(t *testing.T, idemKey string) {
	t.Helper()
	sum := sha256.Sum256([]byte(idemKey))
	_, err := f.tbl.Client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.tbl.Name),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORG#" + f.org + "#IDEM#" + hex.EncodeToString(sum[:])},
			"sk": &types.AttributeValueMemberS{Value: "IDEM"}},
		UpdateExpression:          aws.String("SET enqueued = :f"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}},
	})
	require.NoError(t, err)
}
