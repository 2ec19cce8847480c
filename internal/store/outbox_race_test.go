package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// hookDB runs a function once, right after the first GetItem whose
// partition key contains match answers: another writer's step landing
// between a read and the write that follows it.
type hookDB struct {
	store.DB
	match string
	once  sync.Once
	after func()
}

func (h *hookDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := h.DB.GetItem(ctx, in, o...)
	if pk, ok := in.Key["pk"].(*types.AttributeValueMemberS); ok && strings.Contains(pk.Value, h.match) {
		h.once.Do(h.after)
	}
	return out, err
}

// Issue 13, item 5: a status whose read of the wamid lookup comes before
// the sender records the wamid, and whose write comes after the sender's
// read of early statuses, is applied (it was recorded as unknown and never
// applied: the message stayed accepted).
func TestStatusRacingTheSendersCommitIsApplied(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := textOut(org.ID, "5511900000003")
	m.FreeForm, m.Type = false, "template"
	res, err := s.AcceptOutbound(ctx, m)
	require.NoError(t, err)
	cl, err := s.ClaimSend(ctx, org.ID, res.Message.ID, time.Minute)
	require.NoError(t, err)

	var early []store.StatusUpdate
	h := &hookDB{DB: tbl.Client, match: "#WAMID#wamid.race", after: func() {
		early, err = s.SendAccepted(ctx, cl, "wamid.race")
	}}
	racing := store.New(h, tbl.Name, c.Now)
	r, aerr := racing.ApplyStatus(ctx, store.StatusUpdate{OrgID: org.ID, WAMID: "wamid.race", Status: store.StatusDelivered, Timestamp: c.Now()})
	require.NoError(t, aerr)
	require.NoError(t, err, "the sender's commit")
	require.Empty(t, early, "the sender saw no early status")
	require.True(t, r.Applied, "applied, not recorded as unknown: %+v", r)
	require.False(t, r.Unknown)
	got, err := s.Message(ctx, org.ID, res.Message.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusDelivered, got.Status)
}

// An attempt recorded before the POST makes the next claim's outcome
// unknown until the attempt's outcome is recorded.
func TestSendAttemptMarksTheOutcomeUnknownUntilRecorded(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := textOut(org.ID, "5511900000004")
	m.FreeForm, m.Type = false, "template"
	res, err := s.AcceptOutbound(ctx, m)
	require.NoError(t, err)
	cl, err := s.ClaimSend(ctx, org.ID, res.Message.ID, time.Minute)
	require.NoError(t, err)
	require.Nil(t, cl.UnknownSince)
	require.NoError(t, s.SendAttempt(ctx, cl))
	require.NoError(t, s.SendRetry(ctx, cl, "HTTP 503"))
	cl, err = s.ClaimSend(ctx, org.ID, res.Message.ID, time.Minute)
	require.NoError(t, err)
	require.Nil(t, cl.UnknownSince, "a retry records the outcome")
	require.NoError(t, s.SendAttempt(ctx, cl))
	c.Add(2 * time.Minute) // the sender died after its POST
	cl, err = s.ClaimSend(ctx, org.ID, res.Message.ID, time.Minute)
	require.NoError(t, err)
	require.NotNil(t, cl.UnknownSince, "the outcome is unknown")
}
