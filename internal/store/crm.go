package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CRM sync (internal/crmsync): once-only claims of the work done in a CRM
// for a subject (a Salesforce Lead per contact, a Task or a note per
// resolved conversation, a HubSpot event), with their outcome.

const typeCRMClaim = "crm_claim"

func crmClaimPK(org, what, subject string) string {
	return "ORG#" + org + "#CRM#" + what + "#" + subject
}
func crmClaimSK() string { return "CLAIM" }

// CRM claim states besides TriggerPending and TriggerDone.
const CRMFailed = "failed"

// CRMClaim is a claim's state: Result is the CRM's id for what was created
// (done) or the error code (failed); Attempts counts the claims taken.
type CRMClaim struct {
	State    string
	Result   string
	Reason   string
	Attempts int
}

// ClaimCRM claims the CRM work on a subject: new, or pending with its
// lease run out (a crashed attempt). Not claimed, the claim tells why (done,
// failed, or pending under another attempt's lease). ttl > 0 forgets the
// claim after it (HubSpot event receipts); 0 keeps it.
func (s *Store) ClaimCRM(ctx context.Context, org, what, subject string, lease, ttl time.Duration) (CRMClaim, bool, error) {
	it, claimed, err := s.claim(ctx, key{crmClaimPK(org, what, subject), crmClaimSK()}, typeCRMClaim, "", lease, ttl)
	return CRMClaim{State: it.State, Result: it.Result, Reason: it.Reason, Attempts: it.Attempts}, claimed, err
}

// FinishCRM ends a claim: done with the CRM's id, or failed with the
// error code and message (a failure that would fail again).
func (s *Store) FinishCRM(ctx context.Context, org, what, subject, state, result, reason string) error {
	in := updateInput(s.table, key{crmClaimPK(org, what, subject), crmClaimSK()},
		"SET #state = :st, #result = :r, reason = :why, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":st": str(state), ":r": str(result), ":why": str(reason), ":now": str(timestamp(s.now()))})
	in.ExpressionAttributeNames = map[string]string{"#state": "state", "#result": "result"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("finish crm claim", err)
	}
	return nil
}

// ReleaseCRM ends a failed attempt's lease at once (it will be retried).
func (s *Store) ReleaseCRM(ctx context.Context, org, what, subject string) error {
	return s.release(ctx, key{crmClaimPK(org, what, subject), crmClaimSK()})
}
