package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// WhatsAppAccount is an organisation's connected WhatsApp number, without
// its secrets (those live in Secrets Manager).
type WhatsAppAccount struct {
	OrgID           string     `json:"-"`
	PhoneNumberID   string     `json:"phone_number_id"`
	WABAID          string     `json:"waba_id,omitempty"`
	GraphAPIVersion string     `json:"graph_api_version,omitempty"`
	VerifyTokenHash string     `json:"-"`
	Healthy         bool       `json:"healthy"`
	UnhealthyReason string     `json:"unhealthy_reason,omitempty"`
	UnhealthySince  *time.Time `json:"unhealthy_since,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// VerifiedAt is when Meta's verification handshake last succeeded with
	// this organisation's verify token (recorded at most once an hour; kept
	// while the token stays the same).
	VerifiedAt *time.Time `json:"-"`
	// Signals are what Meta's account webhooks last said of the number
	// and the account (phone_number_quality_update, account_update).
	Signals WhatsAppSignals `json:"signals"`
	// DisplayPhoneNumber is the number as Meta showed it when the
	// connection was proven ("+55 11 5555-0000"); it gives the
	// organisation its default country (PhoneSettings).
	DisplayPhoneNumber string `json:"display_phone_number,omitempty"`
	// SendRateOverride, when positive, is the number's send limit
	// (messages/s) set by an operator for the organisation, instead of
	// the one that follows Meta's throughput level; kept when the
	// settings are saved again.
	SendRateOverride int `json:"send_rate_override,omitempty"`
}

// SendRate is the number's send limit (messages/s): the operator's
// override when set (never over MaxSendRate, Meta's highest level),
// MaxSendRate when Meta reports the number's throughput level HIGH, def
// (the deployment's default, Meta's standard 80/s) otherwise. The sender
// paces sends by it and the campaign runner paces a campaign's queueing.
func (a WhatsAppAccount) SendRate(def int) int {
	switch {
	case a.SendRateOverride > 0:
		return min(a.SendRateOverride, MaxSendRate)
	case a.Signals.ThroughputLevel == "HIGH":
		return MaxSendRate
	}
	return def
}

// WhatsAppSignals are the number's quality and limits and the account's
// last event, from Meta's webhooks; empty until one arrives.
type WhatsAppSignals struct {
	QualityRating      string     `json:"quality_rating,omitempty"`       // GREEN, YELLOW, RED, UNKNOWN
	QualityEvent       string     `json:"quality_event,omitempty"`        // e.g. FLAGGED, UPGRADE, THROUGHPUT_UPGRADE
	MessagingLimitTier string     `json:"messaging_limit_tier,omitempty"` // TIER_250 ... TIER_UNLIMITED
	ThroughputLevel    string     `json:"throughput_level,omitempty"`     // STANDARD, HIGH
	AccountEvent       string     `json:"account_event,omitempty"`        // account_update's event
	UpdatedAt          *time.Time `json:"updated_at,omitempty"`
}

type whatsappItem struct {
	key
	// GSI1PK/GSI1SK list every connection (WHATSAPPS / <org>) for the
	// scheduled template sync.
	GSI1PK          string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK          string `dynamodbav:"gsi1sk,omitempty"`
	Type            string `dynamodbav:"type"`
	OrgID           string `dynamodbav:"org_id"`
	PhoneNumberID   string `dynamodbav:"phone_number_id"`
	WABAID          string `dynamodbav:"waba_id,omitempty"`
	GraphAPIVersion string `dynamodbav:"graph_api_version,omitempty"`
	VerifyTokenHash string `dynamodbav:"verify_token_hash"`
	Unhealthy       string `dynamodbav:"unhealthy_reason,omitempty"`
	UnhealthySince  string `dynamodbav:"unhealthy_since,omitempty"`
	UpdatedAt       string `dynamodbav:"updated_at"`
	VerifiedAt      string `dynamodbav:"verified_at,omitempty"`
	Quality         string `dynamodbav:"quality_rating,omitempty"`
	QualityEvent    string `dynamodbav:"quality_event,omitempty"`
	LimitTier       string `dynamodbav:"messaging_limit_tier,omitempty"`
	Throughput      string `dynamodbav:"throughput_level,omitempty"`
	AccountEvent    string `dynamodbav:"account_event,omitempty"`
	SignalsAt       string `dynamodbav:"signals_updated_at,omitempty"`
	DisplayPhone    string `dynamodbav:"display_phone_number,omitempty"`
	RateOverride    int    `dynamodbav:"send_rate_override,omitempty"`
}

func (it whatsappItem) model() WhatsAppAccount {
	a := WhatsAppAccount{
		OrgID: it.OrgID, PhoneNumberID: it.PhoneNumberID, WABAID: it.WABAID, GraphAPIVersion: it.GraphAPIVersion,
		VerifyTokenHash: it.VerifyTokenHash, Healthy: it.Unhealthy == "", UnhealthyReason: it.Unhealthy,
		UnhealthySince: parseTime(it.UnhealthySince), VerifiedAt: parseTime(it.VerifiedAt),
		Signals: WhatsAppSignals{QualityRating: it.Quality, QualityEvent: it.QualityEvent, MessagingLimitTier: it.LimitTier,
			ThroughputLevel: it.Throughput, AccountEvent: it.AccountEvent, UpdatedAt: parseTime(it.SignalsAt)},
		DisplayPhoneNumber: it.DisplayPhone, SendRateOverride: it.RateOverride,
	}
	if t := parseTime(it.UpdatedAt); t != nil {
		a.UpdatedAt = *t
	}
	return a
}

// pointerItem maps a phone number id or verify token hash to its organisation.
type pointerItem struct {
	key
	Type  string `dynamodbav:"type"`
	OrgID string `dynamodbav:"org_id"`
}

// WhatsAppAccount reads the organisation's connected number; NotFound when
// none is configured.
func (s *Store) WhatsAppAccount(ctx context.Context, orgID string) (WhatsAppAccount, error) {
	return getModel[whatsappItem](ctx, s, key{orgPK(orgID), whatsappSK()}, apperr.New(apperr.NotFound, "WhatsApp is not configured for this organization").WithCode("whatsapp_not_configured"))
}

// PutWhatsAppAccount connects (or re-connects) the organisation's number. The
// phone number id and the WABA id stay unique across organisations: one
// another organisation holds is a Conflict (OwnershipConflict, which names
// neither). Verify tokens need not be unique: each organisation has its own
// pointer item under the token's hash. Saving marks the connection healthy
// again. Meta's verification record is kept when the verify token stays, or
// taken from a.VerifiedAt when set (an account put back as it was read).
func (s *Store) PutWhatsAppAccount(ctx context.Context, a WhatsAppAccount) (WhatsAppAccount, error) {
	var old whatsappItem
	had, err := s.getItem(ctx, key{orgPK(a.OrgID), whatsappSK()}, &old)
	if err != nil {
		return WhatsAppAccount{}, err
	}
	now := s.now()
	it := whatsappItem{
		key: key{orgPK(a.OrgID), whatsappSK()}, GSI1PK: whatsappListPK(), GSI1SK: a.OrgID, Type: typeWhatsApp, OrgID: a.OrgID,
		PhoneNumberID: a.PhoneNumberID, WABAID: a.WABAID, GraphAPIVersion: a.GraphAPIVersion,
		VerifyTokenHash: a.VerifyTokenHash, UpdatedAt: timestamp(now), DisplayPhone: a.DisplayPhoneNumber,
	}
	if had && old.PhoneNumberID == a.PhoneNumberID {
		// The same number keeps the throughput level Meta gave it (the
		// sender's limit follows it) until Meta says otherwise, and an
		// operator's override; another number has neither (a rate raised
		// for the old number would be over the new one's limit).
		it.Throughput = old.Throughput
		it.RateOverride = old.RateOverride
	}
	if a.Signals.ThroughputLevel != "" {
		it.Throughput = a.Signals.ThroughputLevel
	}
	if a.SendRateOverride > 0 {
		// An account put back as it was read (a failed save undone).
		it.RateOverride = min(a.SendRateOverride, MaxSendRate)
	}
	switch {
	case a.VerifiedAt != nil:
		// An account put back as it was read (a failed save undone): its
		// record was of its own verify token.
		it.VerifiedAt = timestamp(*a.VerifiedAt)
	case had && old.VerifyTokenHash == a.VerifyTokenHash:
		it.VerifiedAt = old.VerifiedAt // Meta's subscription still holds
	}
	acct, err := marshal(it)
	if err != nil {
		return WhatsAppAccount{}, err
	}
	claim := func(k key, typ string) (types.TransactWriteItem, error) {
		av, err := marshal(pointerItem{key: k, Type: typ, OrgID: a.OrgID})
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		w := s.put(av, "attribute_not_exists(pk) OR org_id = :org")
		w.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":org": &types.AttributeValueMemberS{Value: a.OrgID}}
		return w, nil
	}
	phone, err := claim(key{phonePK(a.PhoneNumberID), phoneSK()}, typePhone)
	if err != nil {
		return WhatsAppAccount{}, err
	}
	verifyItem, err := marshal(pointerItem{key: key{verifyPK(a.VerifyTokenHash), verifyOrgSK(a.OrgID)}, Type: typeVerify, OrgID: a.OrgID})
	if err != nil {
		return WhatsAppAccount{}, err
	}
	verify := s.put(verifyItem, "")
	items := []types.TransactWriteItem{phone, verify, s.put(acct, "")}
	if a.WABAID != "" {
		waba, err := claim(key{wabaPK(a.WABAID), wabaSK()}, typeWABA)
		if err != nil {
			return WhatsAppAccount{}, err
		}
		items = append(items, waba)
	}
	release := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: k.av(),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR org_id = :org"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":org": &types.AttributeValueMemberS{Value: a.OrgID}},
		}}
	}
	if had && old.PhoneNumberID != a.PhoneNumberID {
		items = append(items, release(key{phonePK(old.PhoneNumberID), phoneSK()}))
	}
	if had && old.WABAID != "" && old.WABAID != a.WABAID {
		items = append(items, release(key{wabaPK(old.WABAID), wabaSK()}))
	}
	if had && old.VerifyTokenHash != a.VerifyTokenHash {
		// This organisation's pointer, and the one-per-token item of
		// before verify tokens could repeat (if it is ours).
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key{verifyPK(old.VerifyTokenHash), verifyOrgSK(a.OrgID)}.av(),
		}}, release(key{verifyPK(old.VerifyTokenHash), verifySK()}))
	}
	err = s.transact(ctx, "put whatsapp account", items, func(failed []bool) error {
		if failed[0] || (a.WABAID != "" && failed[3]) {
			return OwnershipConflict(ErrConditionFailed)
		}
		return conditionErr(apperr.Conflict, "the WhatsApp settings changed concurrently, retry")
	})
	if err != nil {
		return WhatsAppAccount{}, err
	}
	return it.model(), nil
}

// RemoveWhatsAppAccount undoes a PutWhatsAppAccount of a that had no
// account before it: the account item (only while it is still a's number)
// and a's phone number, WABA and verify token claims (only while the
// organisation holds them) go in one transaction. Nothing to remove is not
// an error.
func (s *Store) RemoveWhatsAppAccount(ctx context.Context, a WhatsAppAccount) error {
	org := map[string]types.AttributeValue{":org": str(a.OrgID)}
	del := func(k key, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: k.av(),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
		}}
	}
	items := []types.TransactWriteItem{
		del(key{orgPK(a.OrgID), whatsappSK()}, "attribute_not_exists(pk) OR phone_number_id = :phone",
			map[string]types.AttributeValue{":phone": str(a.PhoneNumberID)}),
		del(key{phonePK(a.PhoneNumberID), "PHONE"}, "attribute_not_exists(pk) OR org_id = :org", org),
		del(key{verifyPK(a.VerifyTokenHash), verifyOrgSK(a.OrgID)}, "attribute_not_exists(pk) OR org_id = :org", org),
		del(key{verifyPK(a.VerifyTokenHash), verifySK()}, "attribute_not_exists(pk) OR org_id = :org", org), // before tokens could repeat
	}
	if a.WABAID != "" {
		items = append(items, del(key{wabaPK(a.WABAID), "WABA"}, "attribute_not_exists(pk) OR org_id = :org", org))
	}
	return s.transact(ctx, "remove whatsapp account", items, func([]bool) error {
		return conditionErr(apperr.Conflict, "the WhatsApp settings changed concurrently")
	})
}

// verifiedEvery bounds the writes MarkWhatsAppVerified makes.
const verifiedEvery = time.Hour

// MarkWhatsAppVerified records that Meta's verification handshake
// succeeded with the verify token whose hash is tokenHash. One conditional
// write, made only when that token is still the organisation's (a save of
// another token racing the handshake is not marked verified by it) and the
// last record is older than an hour (or absent): a repeated handshake
// writes nothing, and an organisation without WhatsApp settings gets
// nothing.
func (s *Store) MarkWhatsAppVerified(ctx context.Context, orgID, tokenHash string) error {
	now := s.now()
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(orgID), whatsappSK()},
		"SET verified_at = :t", "attribute_exists(pk) AND verify_token_hash = :h AND (attribute_not_exists(verified_at) OR verified_at < :stale)",
		map[string]types.AttributeValue{":t": str(timestamp(now)), ":stale": str(timestamp(now.Add(-verifiedEvery))), ":h": str(tokenHash)}))
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return unavailable("mark whatsapp verified", err)
	}
	return nil
}

// MaxSendRate is the highest send limit of a number (messages/s): Meta's
// HIGH throughput level. No override goes over it.
const MaxSendRate = 1000

// SetSendRateOverride sets the organisation's send limit (messages/s per
// its number) in place of the one Meta's throughput level gives; 0 removes
// the override. NotFound when WhatsApp is not configured.
func (s *Store) SetSendRateOverride(ctx context.Context, orgID string, perSecond int) error {
	if perSecond < 0 || perSecond > MaxSendRate {
		return apperr.New(apperr.Invalid, fmt.Sprintf("send rate override must be between 0 (none) and %d messages/s (Meta's highest throughput level)", MaxSendRate))
	}
	// 0 is stored as such: no override.
	in := updateInput(s.table, key{orgPK(orgID), whatsappSK()}, "SET send_rate_override = :n", "attribute_exists(pk)",
		map[string]types.AttributeValue{":n": num(strconv.Itoa(perSecond))})
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return apperr.New(apperr.NotFound, "WhatsApp is not configured for this organization").WithCode("whatsapp_not_configured")
		}
		return unavailable("set send rate override", err)
	}
	return nil
}

// MarkWhatsAppUnhealthy records that Meta refused the organisation's token
// (error 190, ...); sends fail fast until the settings are saved again.
func (s *Store) MarkWhatsAppUnhealthy(ctx context.Context, orgID, reason string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(orgID), whatsappSK()},
		"SET unhealthy_reason = :r, unhealthy_since = if_not_exists(unhealthy_since, :t)", "attribute_exists(pk)",
		map[string]types.AttributeValue{":r": str(reason), ":t": str(timestamp(s.now()))}))
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "WhatsApp is not configured for this organization")
	}
	if err != nil {
		return unavailable("mark whatsapp unhealthy", err)
	}
	return nil
}

// OrgByPhoneNumberID finds the organisation that owns a phone number id.
func (s *Store) OrgByPhoneNumberID(ctx context.Context, phoneNumberID string) (string, error) {
	return s.pointer(ctx, key{phonePK(phoneNumberID), phoneSK()}, "no organization owns this phone number id")
}

// OrgByWABAID finds the organisation of a WhatsApp Business Account id
// (webhook fields without a phone number, such as template status updates).
func (s *Store) OrgByWABAID(ctx context.Context, wabaID string) (string, error) {
	return s.pointer(ctx, key{wabaPK(wabaID), wabaSK()}, "no organization owns this WABA id")
}

// OrgByVerifyTokenHash finds an organisation whose verify token hashes to h
// (several may share a token; Meta's verification handshake only needs to
// know that one has it): one strongly consistent Query of the token's
// partition, limit 1.
func (s *Store) OrgByVerifyTokenHash(ctx context.Context, h string) (string, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(verifyPK(h))},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return "", unavailable("find verify token", err)
	}
	if len(out.Items) == 0 {
		return "", apperr.New(apperr.NotFound, "no organization has this verify token")
	}
	var it pointerItem
	if err := attributevalue.UnmarshalMap(out.Items[0], &it); err != nil {
		return "", fmt.Errorf("store: decode verify token: %w", err)
	}
	return it.OrgID, nil
}

// OwnershipConflict is the one answer to a claim of something another
// organisation holds (phone number id, WABA id, shop domain, site URL): it
// says neither which of them nor whose, so a claim cannot be used to learn
// what other tenants use.
func OwnershipConflict(cause error) *apperr.Error {
	return apperr.New(apperr.Conflict, "another organization has already connected the WhatsApp phone number, business account or shop "+
		"in these settings; if it is yours, contact support").WithCode("already_connected").WithCause(cause)
}

func (s *Store) pointer(ctx context.Context, k key, notFound string) (string, error) {
	var it pointerItem
	found, err := s.getItem(ctx, k, &it)
	if err != nil {
		return "", err
	}
	if !found {
		return "", apperr.New(apperr.NotFound, notFound)
	}
	return it.OrgID, nil
}

// UpdateWhatsAppSignals records what an account webhook says of the
// connection (the fields of sig that are set; the others keep their
// values) and returns the account after it. NotFound when the
// organisation has no connection.
func (s *Store) UpdateWhatsAppSignals(ctx context.Context, orgID string, sig WhatsAppSignals) (WhatsAppAccount, error) {
	// A connection saved before connections were listed joins the list.
	sets := []string{"signals_updated_at = :t", "gsi1pk = :lpk", "gsi1sk = :lsk"}
	vals := map[string]types.AttributeValue{":t": str(timestamp(s.now())), ":lpk": str(whatsappListPK()), ":lsk": str(orgID)}
	for _, f := range []struct{ attr, v string }{
		{"quality_rating", sig.QualityRating}, {"quality_event", sig.QualityEvent}, {"messaging_limit_tier", sig.MessagingLimitTier},
		{"throughput_level", sig.ThroughputLevel}, {"account_event", sig.AccountEvent},
	} {
		if f.v != "" {
			sets = append(sets, f.attr+" = :"+f.attr)
			vals[":"+f.attr] = str(f.v)
		}
	}
	in := updateInput(s.table, key{orgPK(orgID), whatsappSK()}, "SET "+strings.Join(sets, ", "), "attribute_exists(pk)", vals)
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return WhatsAppAccount{}, apperr.New(apperr.NotFound, "WhatsApp is not configured for this organization").WithCode("whatsapp_not_configured")
	}
	if err != nil {
		return WhatsAppAccount{}, unavailable("update whatsapp signals", err)
	}
	var it whatsappItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return WhatsAppAccount{}, fmt.Errorf("store: decode whatsapp account: %w", err)
	}
	return it.model(), nil
}

// WhatsAppAccounts pages through every organisation's connection (gsi1,
// WHATSAPPS), for work done for all of them (the scheduled template sync).
func (s *Store) WhatsAppAccounts(ctx context.Context, cursor string, limit int) (Page[WhatsAppAccount], error) {
	return queryModels[whatsappItem](ctx, s, keyPrefix(IndexGSI1, whatsappListPK(), "", cursor, limit, true), nil)
}
