package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Campaign states.
const (
	CampaignScheduled = "scheduled" // waiting for send_at
	CampaignRunning   = "running"   // its audience is being expanded and sent
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignCompleted = "completed"
)

// Recipient states.
const (
	RecipientPending = "pending" // claimed; its message is being accepted
	RecipientQueued  = "queued"  // its message was accepted (MessageID)
	RecipientSkipped = "skipped" // not sent (SkipReason)
	// RecipientDuplicate is the skip reason of a contact that is the same
	// person as another recipient (merged mid-campaign).
	RecipientDuplicate = "duplicate"
	// RecipientOptedOut is the skip reason of a contact that opted out of
	// marketing messages (before its turn, or after its message was
	// queued: the sender's check).
	RecipientOptedOut = "opted_out"
)

// Campaign is a template broadcast to a segment of contacts.
type Campaign struct {
	ID         string
	OrgID      string
	Name       string
	Template   json.RawMessage
	Tags       []string
	ContactIDs []string
	SendAt     time.Time
	Status     string
	// Recipients is the audience's size when the campaign was created.
	Recipients int
	// Cursor is where the audience's expansion stands: "" (not started),
	// "ids:<n>" (the next contact_ids index), "tags:<list cursor>", or
	// "done".
	Cursor string
	// PacedUntil is when the number is expected to have sent every
	// message the runner has queued for the campaign so far (the runner
	// queues more only while it is at most a few seconds ahead): moved
	// with the cursor, so concurrent runners share it.
	PacedUntil time.Time
	// Test: created with a pytake_test_ key (its messages never reach Meta).
	Test        bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
}

type campaignItem struct {
	key
	GSI1PK      string   `dynamodbav:"gsi1pk"`
	GSI1SK      string   `dynamodbav:"gsi1sk"`
	Type        string   `dynamodbav:"type"`
	ID          string   `dynamodbav:"id"`
	OrgID       string   `dynamodbav:"org_id"`
	Name        string   `dynamodbav:"name"`
	Template    string   `dynamodbav:"template"`
	Tags        []string `dynamodbav:"tags,omitempty"`
	ContactIDs  []string `dynamodbav:"contact_ids,omitempty"`
	SendAt      string   `dynamodbav:"send_at"`
	Status      string   `dynamodbav:"status"`
	Recipients  int      `dynamodbav:"recipients"`
	Cursor      string   `dynamodbav:"cursor"`
	PacedUntil  string   `dynamodbav:"paced_until,omitempty"`
	Test        bool     `dynamodbav:"test,omitempty"`
	CreatedAt   string   `dynamodbav:"created_at"`
	UpdatedAt   string   `dynamodbav:"updated_at"`
	StartedAt   string   `dynamodbav:"started_at,omitempty"`
	CompletedAt string   `dynamodbav:"completed_at,omitempty"`
}

func (it campaignItem) model() Campaign {
	return Campaign{ID: it.ID, OrgID: it.OrgID, Name: it.Name, Template: json.RawMessage(it.Template), Tags: it.Tags,
		ContactIDs: it.ContactIDs, SendAt: mustTime(it.SendAt), Status: it.Status, Recipients: it.Recipients, Cursor: it.Cursor,
		PacedUntil: mustTime(it.PacedUntil), Test: it.Test, CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt), StartedAt: parseTime(it.StartedAt),
		CompletedAt: parseTime(it.CompletedAt)}
}

const (
	typeCampaign  = "campaign"
	typeRecipient = "campaign_recipient"
	// typeRecipientIdent claims one identity of a recipient (RCPTID#...).
	typeRecipientIdent = "campaign_recipient_ident"
	// campaignsDuePK lists (gsi1) the campaigns a runner has work for:
	// scheduled and running ones, by send_at; the others move to
	// campaignsIdlePK.
	campaignsDuePK  = "CAMPAIGNS#DUE"
	campaignsIdlePK = "CAMPAIGNS#IDLE"
)

func campaignSK(id string) string { return "CAMPAIGN#" + id }

const campaignSKPrefix = "CAMPAIGN#"

func recipientsPK(org, campaign string) string { return "ORG#" + org + "#CAMPAIGN#" + campaign }
func recipientSK(contact string) string        { return "RCPT#" + contact }

func campaignListPK(status string) string {
	if status == CampaignScheduled || status == CampaignRunning {
		return campaignsDuePK
	}
	return campaignsIdlePK
}

// CreateCampaign stores a new campaign (its id and times are set here).
func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt = id.New(id.Campaign, now), now, now
	if c.SendAt.IsZero() {
		c.SendAt = now
	}
	it := campaignItem{key: key{orgPK(c.OrgID), campaignSK(c.ID)}, GSI1PK: campaignListPK(c.Status),
		GSI1SK: timestamp(c.SendAt) + "#" + c.OrgID + "#" + c.ID, Type: typeCampaign, ID: c.ID, OrgID: c.OrgID, Name: c.Name,
		Template: string(c.Template), Tags: c.Tags, ContactIDs: c.ContactIDs, SendAt: timestamp(c.SendAt), Status: c.Status,
		Recipients: c.Recipients, Cursor: c.Cursor, Test: c.Test, CreatedAt: timestamp(now), UpdatedAt: timestamp(now)}
	av, err := marshal(it)
	if err != nil {
		return Campaign{}, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "attribute_not_exists(pk)")); err != nil {
		return Campaign{}, unavailable("create campaign", err)
	}
	return c, nil
}

// Campaign reads one of an organisation's campaigns.
func (s *Store) Campaign(ctx context.Context, org, campaignID string) (Campaign, error) {
	return getModel[campaignItem](ctx, s, key{orgPK(org), campaignSK(campaignID)}, apperr.New(apperr.NotFound, "campaign not found"))
}

// Campaigns lists an organisation's campaigns, newest first, in bounded pages.
func (s *Store) Campaigns(ctx context.Context, org, cursor string, limit int) (Page[Campaign], error) {
	return queryModels[campaignItem](ctx, s, keyPrefix("", orgPK(org), campaignSKPrefix, cursor, limit, false), nil)
}

// DueCampaigns lists (across organisations) up to limit campaigns a runner
// has work for: running ones and scheduled ones whose send_at has come.
func (s *Store) DueCampaigns(ctx context.Context, limit int) ([]Campaign, error) {
	now := timestamp(s.now())
	page, err := queryModels[campaignItem](ctx, s, keyPrefix(IndexGSI1, campaignsDuePK, "", "", limit, true),
		func(it campaignItem) bool { return it.SendAt <= now })
	return page.Items, err
}

// SetCampaignStatus moves a campaign from one of the states in from to to
// (a Conflict naming its state otherwise), with the times it implies.
func (s *Store) SetCampaignStatus(ctx context.Context, org, campaignID string, from []string, to string) (Campaign, error) {
	c, err := s.Campaign(ctx, org, campaignID)
	if err != nil {
		return c, err
	}
	if !slices.Contains(from, c.Status) {
		return c, apperr.New(apperr.Conflict, "the campaign is "+c.Status).WithCode("campaign_state_conflict").With("status", c.Status)
	}
	now := s.now()
	set := "SET #st = :to, updated_at = :now, gsi1pk = :lpk"
	values := map[string]types.AttributeValue{":to": str(to), ":now": str(timestamp(now)), ":lpk": str(campaignListPK(to)), ":from": str(c.Status)}
	switch to {
	case CampaignRunning:
		if c.StartedAt == nil {
			set += ", started_at = :now"
			c.StartedAt = &now
		}
	case CampaignCompleted, CampaignCancelled:
		set += ", completed_at = :now"
		c.CompletedAt = &now
	}
	in := updateInput(s.table, key{orgPK(org), campaignSK(campaignID)}, set, "#st = :from", values)
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return c, conditionErr(apperr.Conflict, "the campaign changed meanwhile, retry").WithCode("campaign_state_conflict")
		}
		return c, unavailable("set campaign status", err)
	}
	c.Status, c.UpdatedAt = to, now
	return c, nil
}

// AdvanceCampaign moves a running campaign's cursor from prev to next,
// and its PacedUntil to pacedUntil when that is not zero. ok is false when
// the campaign is no longer running or another runner moved the cursor
// first: the caller stops (its page's recipients were claimed, so nothing
// is sent twice).
func (s *Store) AdvanceCampaign(ctx context.Context, org, campaignID, prev, next string, pacedUntil time.Time) (ok bool, err error) {
	values := map[string]types.AttributeValue{":prev": str(prev), ":next": str(next), ":run": str(CampaignRunning),
		":now": str(timestamp(s.now()))}
	set := "SET #cur = :next, updated_at = :now"
	if !pacedUntil.IsZero() {
		set += ", paced_until = :paced"
		values[":paced"] = str(timestamp(pacedUntil))
	}
	in := updateInput(s.table, key{orgPK(org), campaignSK(campaignID)}, set,
		"#cur = :prev AND #st = :run", values)
	in.ExpressionAttributeNames = map[string]string{"#cur": "cursor", "#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return false, nil
		}
		return false, unavailable("advance campaign", err)
	}
	return true, nil
}

// Recipient is one contact of a campaign and what became of it.
type Recipient struct {
	CampaignID string    `json:"-"`
	OrgID      string    `json:"-"`
	ContactID  string    `json:"contact_id"`
	Status     string    `json:"status"`
	MessageID  string    `json:"message_id,omitempty"`
	SkipReason string    `json:"skip_reason,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type recipientItem struct {
	key
	Type       string `dynamodbav:"type"`
	CampaignID string `dynamodbav:"campaign_id"`
	OrgID      string `dynamodbav:"org_id"`
	ContactID  string `dynamodbav:"contact_id"`
	Status     string `dynamodbav:"status"`
	MessageID  string `dynamodbav:"message_id,omitempty"`
	SkipReason string `dynamodbav:"skip_reason,omitempty"`
	Detail     string `dynamodbav:"detail,omitempty"`
	UpdatedAt  string `dynamodbav:"updated_at"`
}

func (it recipientItem) model() Recipient {
	return Recipient{CampaignID: it.CampaignID, OrgID: it.OrgID, ContactID: it.ContactID, Status: it.Status, MessageID: it.MessageID,
		SkipReason: it.SkipReason, Detail: it.Detail, UpdatedAt: mustTime(it.UpdatedAt)}
}

// ClaimRecipient records contact c as a recipient of the campaign,
// pending, unless it already is one: the recipient as recorded comes back
// either way (created says which). With it, each of the contact's
// identities (its WhatsApp number, its BSUID) is claimed for the campaign,
// in the same transaction: a contact that shares one with a recipient
// already claimed (two contacts merged into one person mid-campaign) is
// recorded skipped ("duplicate"), so a person is sent once. Whatever
// runners race or retry, a recipient is claimed once per campaign.
func (s *Store) ClaimRecipient(ctx context.Context, org, campaignID string, c Contact) (Recipient, bool, error) {
	now := timestamp(s.now())
	it := recipientItem{key: key{recipientsPK(org, campaignID), recipientSK(c.ID)}, Type: typeRecipient, CampaignID: campaignID,
		OrgID: org, ContactID: c.ID, Status: RecipientPending, UpdatedAt: now}
	av, err := marshal(it)
	if err != nil {
		return Recipient{}, false, err
	}
	items := []types.TransactWriteItem{s.put(av, "attribute_not_exists(pk)")}
	for _, ident := range recipientIdents(c) {
		mk, err := marshal(recipientItem{key: key{recipientsPK(org, campaignID), ident}, Type: typeRecipientIdent, CampaignID: campaignID,
			OrgID: org, ContactID: c.ID, UpdatedAt: now})
		if err != nil {
			return Recipient{}, false, err
		}
		items = append(items, s.put(mk, "attribute_not_exists(pk) OR contact_id = :c"))
		items[len(items)-1].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":c": str(c.ID)}
	}
	claimed, dup := true, false
	err = s.transact(ctx, "claim recipient", items, func(failed []bool) error {
		claimed = false
		dup = !failed[0] // only an identity was taken: another contact, the same person
		return nil
	})
	if err != nil {
		return Recipient{}, false, err
	}
	if claimed {
		return it.model(), true, nil
	}
	if !dup {
		r, found, err := s.recipient(ctx, org, campaignID, c.ID)
		if err == nil && !found {
			err = apperr.New(apperr.Unavailable, "the recipient is being claimed, retry")
		}
		return r, false, err
	}
	dupOf := "the same person as another recipient (one of its identities)"
	// The same person as a recipient claimed before (a merge): recorded
	// skipped without identities.
	it.Status, it.SkipReason, it.Detail = RecipientSkipped, RecipientDuplicate, dupOf
	av, err = marshal(it)
	if err != nil {
		return Recipient{}, false, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "attribute_not_exists(pk)")); err != nil && !isConditionFailed(err) {
		return Recipient{}, false, unavailable("record duplicate recipient", err)
	}
	r, _, err := s.recipient(ctx, org, campaignID, c.ID)
	return r, false, err
}

func (s *Store) recipient(ctx context.Context, org, campaignID, contactID string) (Recipient, bool, error) {
	var it recipientItem
	found, err := s.getItem(ctx, key{recipientsPK(org, campaignID), recipientSK(contactID)}, &it)
	if err != nil || !found {
		return Recipient{}, found, err
	}
	return it.model(), true, nil
}

// recipientIdents are the sort keys claiming a contact's identities in a
// campaign.
func recipientIdents(c Contact) []string {
	var out []string
	if c.WhatsAppID != "" {
		out = append(out, "RCPTID#WA#"+c.WhatsAppID)
	}
	if c.UserID != "" {
		out = append(out, "RCPTID#BSUID#"+c.UserID)
	}
	return out
}

// RecordRecipient records what became of a pending recipient (queued with
// its message, or skipped with a reason); a recipient already settled is
// left as it is.
func (s *Store) RecordRecipient(ctx context.Context, r Recipient) error {
	values := map[string]types.AttributeValue{":st": str(r.Status), ":m": str(r.MessageID), ":r": str(r.SkipReason),
		":d": str(r.Detail), ":now": str(timestamp(s.now())), ":pending": str(RecipientPending)}
	in := updateInput(s.table, key{recipientsPK(r.OrgID, r.CampaignID), recipientSK(r.ContactID)},
		"SET #st = :st, message_id = :m, skip_reason = :r, detail = :d, updated_at = :now", "#st = :pending", values)
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("record recipient", err)
	}
	return nil
}

// CampaignRecipients lists a campaign's recipients in bounded pages
// (status filters within each page: follow next_cursor).
func (s *Store) CampaignRecipients(ctx context.Context, org, campaignID, status, cursor string, limit int) (Page[Recipient], error) {
	return queryModels(ctx, s, keyPrefix("", recipientsPK(org, campaignID), "RCPT#", cursor, limit, true),
		func(it recipientItem) bool { return status == "" || it.Status == status })
}

// CampaignCounts are a campaign's recipients by outcome: recorded states,
// and for queued ones their message's status now.
type CampaignCounts struct {
	Recipients int            `json:"recipients"`
	Queued     int            `json:"queued"`
	Sent       int            `json:"sent"`
	Delivered  int            `json:"delivered"`
	Read       int            `json:"read"`
	Replied    int            `json:"replied"`
	Failed     int            `json:"failed"`
	Skipped    map[string]int `json:"skipped"`
	Pending    int            `json:"pending"`
}

// CampaignCounts counts a campaign's recipients by reading them all and
// their messages (100 a batch): live, at the cost of one read per
// recipient. sent, delivered and read are cumulative (a read message is
// also delivered and sent); replied counts recipients whose conversation
// has a customer message after theirs.
func (s *Store) CampaignCounts(ctx context.Context, c Campaign) (CampaignCounts, error) {
	out := CampaignCounts{Recipients: c.Recipients, Skipped: map[string]int{}}
	var msgKeys []key
	cursor, seen := "", 0
	for {
		page, err := s.CampaignRecipients(ctx, c.OrgID, c.ID, "", cursor, 100)
		if err != nil {
			return out, err
		}
		for _, r := range page.Items {
			seen++
			switch r.Status {
			case RecipientPending:
				out.Pending++
			case RecipientSkipped:
				out.Skipped[r.SkipReason]++
			case RecipientQueued:
				msgKeys = append(msgKeys, key{msgPK(c.OrgID, r.MessageID), msgSK()})
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if seen > out.Recipients {
		out.Recipients = seen
	}
	for len(msgKeys) > 0 {
		n := min(100, len(msgKeys))
		got, err := s.batchGet(ctx, msgKeys[:n])
		if err != nil {
			return out, err
		}
		var convKeys []key
		sentAt := map[string]string{}
		for _, k := range msgKeys[:n] {
			item := got[k]
			if item == nil {
				continue
			}
			var m struct {
				Status         string `dynamodbav:"status"`
				ConversationID string `dynamodbav:"conversation_id"`
				Timestamp      string `dynamodbav:"timestamp"`
			}
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				continue
			}
			switch m.Status {
			case StatusRead:
				out.Read++
				out.Delivered++
				out.Sent++
			case StatusDelivered:
				out.Delivered++
				out.Sent++
			case StatusSent:
				out.Sent++
			case StatusFailed:
				out.Failed++
			default:
				out.Queued++
			}
			if m.ConversationID != "" && m.Status != StatusFailed {
				convKeys = append(convKeys, key{orgPK(c.OrgID), convSK(m.ConversationID)})
				sentAt[m.ConversationID] = m.Timestamp
			}
		}
		convs, err := s.batchGet(ctx, convKeys)
		if err != nil {
			return out, err
		}
		for _, item := range convs {
			var cv struct {
				ID            string `dynamodbav:"id"`
				LastInboundAt string `dynamodbav:"last_inbound_at"`
			}
			if attributevalue.UnmarshalMap(item, &cv) == nil && cv.LastInboundAt != "" && cv.LastInboundAt > sentAt[cv.ID] {
				out.Replied++
			}
		}
		msgKeys = msgKeys[n:]
	}
	return out, nil
}

// ContactsWithTags counts an organisation's contacts that have every tag
// (pages of 100 through its contacts: the audience size at creation).
func (s *Store) ContactsWithTags(ctx context.Context, org string, tags []string) (int, error) {
	n, cursor := 0, ""
	for {
		page, err := s.ContactsTagged(ctx, org, tags, cursor, 100)
		if err != nil {
			return n, err
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n, nil
		}
		cursor = page.NextCursor
	}
}

// ContactsTagged is one page of an organisation's contacts that have every
// tag (oldest first; merged contacts left out; a page may hold fewer than
// limit: follow next_cursor).
func (s *Store) ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (Page[Contact], error) {
	return queryModels(ctx, s, keyPrefix("", orgPK(org), contactSKPrefix, cursor, limit, true),
		func(it contactItem) bool {
			if it.MergedInto != "" {
				return false
			}
			for _, t := range tags {
				if !slices.Contains(it.Tags, t) {
					return false
				}
			}
			return true
		})
}

// SkipQueuedRecipient records a campaign's recipient whose message was
// queued, and then not sent (its contact opted out before the send),
// skipped with a reason. A recipient still pending (its message accepted,
// the outcome not yet recorded: the runner's record, conditioned on
// pending, then leaves it skipped) is skipped too. Only forward: a
// recipient in another state is left as it is, so a redelivered queue
// message changes nothing.
func (s *Store) SkipQueuedRecipient(ctx context.Context, org, campaignID, contactID, reason, detail string) error {
	values := map[string]types.AttributeValue{":st": str(RecipientSkipped), ":r": str(reason), ":d": str(detail),
		":now": str(timestamp(s.now())), ":queued": str(RecipientQueued), ":pending": str(RecipientPending)}
	in := updateInput(s.table, key{recipientsPK(org, campaignID), recipientSK(contactID)},
		"SET #st = :st, skip_reason = :r, detail = :d, updated_at = :now", "#st IN (:queued, :pending)", values)
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("skip queued recipient", err)
	}
	return nil
}
