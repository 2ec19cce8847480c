package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// The single-table design: every key builder and every access pattern lives in
// this file, so the table's shape can be read in one place.
//
// Table: pk (S, hash), sk (S, range); gsi1 over gsi1pk/gsi1sk (projection ALL);
// TTL attribute expires_at (unix seconds; DynamoDB deletes late, so readers
// also filter on it). Every item carries `type`.
//
// | item                | pk                     | sk                 | gsi1pk / gsi1sk | notes                              |
// |---------------------|------------------------|--------------------|-----------------|------------------------------------|
// | organisation        | ORG#<org>              | ORG                |                 |                                    |
// | API key (by hash)   | KEY#<sha256 hex>       | KEY                |                 | auth lookup; org id, key id, revoked_at |
// | API key (in org)    | ORG#<org>              | APIKEY#<key id>    |                 | listing; prefix, last4, hash, times |
// | WhatsApp account    | ORG#<org>              | WHATSAPP           | WHATSAPPS / <org> | phone number id, WABA, version, health, signals |
// | phone number → org  | PHONE#<phone_number_id>| PHONE              |                 | unique across organisations        |
// | WABA id → org       | WABA#<waba_id>         | WABA               |                 | fields without a phone number id   |
// | verify token → org  | VERIFY#<sha256(token)> | ORG#<org>          |                 | GET verification; one per organisation using the token (older items: sk VERIFY) |
// | contact             | ORG#<org>              | CONTACT#<id>       |                 | wa_id, BSUID, name, tags, attributes |
// | contact identity    | ORG#<org>#IDENT#WA#<wa_id> / ORG#<org>#IDENT#BSUID#<user_id> | IDENT | | → contact id; one per identity |
// | conversation        | ORG#<org>              | CONV#<id>          | ORG#<org>#CONTACT#<c> / CONV#<id> | status, last_inbound_at, handoff, opened_by |
// | open conversation   | ORG#<org>#CONTACT#<c>  | OPENCONV           |                 | → the contact's open conversation; sent_count, last_sent_at of its outbound messages (see 8) |
// | message             | ORG#<org>#MSG#<id>     | MSG                | ORG#<org>#CONV#<conv> / MSG#<id> | raw JSON, status, timestamps; event_contact, event_conversation: the copy its events show (see 10b) |
// | conversation's event view | ORG#<org>#CONV#<conv> | EVENTVIEW |           | status, handoff, contact_id as resolve/reopen/handoff/merge left them: overlaid on its messages' copies (10b) |
// | merge redirect      | ORG#<org>#CONTACT#<merged> | MERGED     |                 | survivor_id, the survivor's event copy at the merge (10b) |
// | message status      | ORG#<org>#MSG#<id>     | STATUS#<status>    |                 | one per (wamid, status): the timeline |
// | wamid → message     | ORG#<org>#WAMID#<wamid>| WAMID              |                 | dedupe of Meta redeliveries; events_pending |
// | status, unknown wamid | ORG#<org>#WAMID#<wamid> | STATUS#<status> |                 | kept for inspection, TTL           |
// | media → message     | ORG#<org>#MEDIA#<media>| MEDIA              |                 | ownership check for /v1/media      |
// | webhook field record| ORG#<org>#WAFIELD      | <sortable id>      |                 | non-message Meta fields, TTL 30 d  |
// | unauthenticated input | UNROUTED#<source>#<yyyy-mm-ddThh> | <sortable id> |  | sha256, size, 512-byte prefix; TTL 14 d |
// | its hourly counter  | UNROUTED#<source>#<yyyy-mm-ddThh> | COUNT     |                 | n < UnroutedPerHour; TTL 14 d      |
// | webhook subscription| ORG#<org>              | WEBHOOK#<id>       |                 | url, events, active, secret_version; secrets in Secrets Manager |
// | webhook count       | ORG#<org>              | WEBHOOKCOUNT       |                 | n, changed in the create/delete transaction (limit) |
// | webhook delivery    | ORG#<org>#WEBHOOK#<wh>#<shard> | DLV#<time>_<hash> |          | exact body, status, attempts; shard (000-255) from <hash>; TTL 30 d |
// | its event's claim   | ORG#<org>#WEBHOOK#<wh>#<shard> | DLVEVT#<event id> |          | delivery_id, job_queued: an event fans out once per webhook, whatever its timestamp; same shard as its delivery; TTL 30 d |
// | recent event        | ORG#<org>#EVENTS#<name>#<shard> | <time>#<event id> |       | exact body, for Zapier samples; shard 00-15 from the event id; TTL 7 d |
// | chatbot            | ORG#<org>              | BOT#<id>           |                 | definition JSON, active, version   |
// | active chatbot     | ORG#<org>              | ACTIVEBOT          |                 | → the one active bot's id          |
// | idempotency key     | ORG#<org>#IDEM#<sha256(key)> | IDEM         |                 | request hash, message id, enqueued; TTL 24 h |
// | scheduled message   | SCHED#<yyyy-mm-ddThh:mm>#<shard 0-15> | <send_at>#<org>#<msg id> |  | the sweep's index of a message stored scheduled (schedule.go); deleted in the transaction that queues, fails or cancels it |
// | sweep cursor        | SCHEDSWEEP             | CURSOR             |                 | minute: the first that may still hold due schedule items |
// | send-rate slot      | RATE#<phone_number_id>#<unix second> | RATE |                 | counter n ≤ ceiling, raised by leases of several tokens (internal/sendlimit); TTL 2 min |
// | /v1 rate bucket     | LIMIT#org#<org> / LIMIT#key#<key id> | LIMIT |                | tat (GCRA token bucket, unix µs); TTL |
// | message template    | ORG#<org>#TPL          | TPL#<name>#<lang>  |                 | Meta's definition, status, category, quality |
// | template sync       | ORG#<org>#TPL          | SYNC               |                 | last sync with Meta: template sends are checked once it exists |
// | e-commerce integration | ORG#<org>           | INTEGRATION#<platform> |             | shop domain / site URL, config JSON; secret in Secrets Manager |
// | integration source → org | COMMERCE#<platform>#<source key> | SOURCE |          | shop domain / site URL unique across organisations |
// | e-commerce order    | ORG#<org>#ORDER#<platform>#<order id> | ORDER |              | number, status, total, phone source, contact, counted |
// | order trigger       | ORG#<org>#ORDER#<platform>#<order id> | NOTIFY#<topic or status:s> | | pending (lease) / done, message id, result |
// | shop webhook receipt | ORG#<org>#CHOOK#<platform>#<webhook id> | HOOK |             | Shopify X-Shopify-Webhook-Id dedupe: pending/done; TTL 7 d |
// | platform webhook record | ORG#<org>#CREC#<platform> | <sortable id> |                | unhandled topics, unreadable bodies; TTL 30 d |
//
// Access patterns:
//  1. Organisation by id: GetItem ORG#<org> / ORG.
//  2. Authenticate a key: GetItem KEY#<sha256(key)> / KEY (consistent read).
//  3. List an organisation's API keys: Query pk = ORG#<org>, sk begins_with APIKEY#.
//  4. One API key of an organisation (revoke): GetItem ORG#<org> / APIKEY#<id>.
//  5. Organisation of an inbound webhook: GetItem PHONE#<phone_number_id> / PHONE.
//  6. An organisation with a verify token: Query VERIFY#<sha256(token)>, limit 1.
//  7. Contact of an inbound identity: BatchGetItem of the IDENT items (BSUID first, then wa_id).
//  8. The contact's open conversation: GetItem ORG#<org>#CONTACT#<c> / OPENCONV.
//     An outbound message joins it by a conditional update of this pointer
//     (conversation_id = the conversation; ADD sent_count, SET last_sent_at),
//     not of the conversation item: nothing per message sent is written to
//     ORG#<org>, which every conversation and contact of the organisation
//     shares. Reading an open conversation (one, a page of the list) folds
//     the pointer's counts in (one GetItem, or one BatchGetItem a page);
//     resolving it and merging its contact away write them into the
//     conversation's item in the transaction that deletes the pointer,
//     conditional on neither having changed. Pointers written before the
//     counts were kept count nothing: their conversations' items hold it all.
//     The pointer also carries opted_out_at, written with every new pointer
//     as the contact's (on condition it is still as read), set and emptied
//     with the contact's in the opt-out's and opt-in's transactions (a
//     pointer without it, from before it was kept, says nothing): a marketing
//     message into the open conversation is refused by the pointer's
//     condition (a merge deletes the pointer, so a merged contact fails it
//     too) rather than by a condition check of the contact in ORG#<org>.
//  9. Messages of a conversation: Query gsi1 gsi1pk = ORG#<org>#CONV#<conv>.
// 10. A message by id: GetItem ORG#<org>#MSG#<id> / MSG; its timeline: Query pk, sk begins_with STATUS#.
// 10b. A status's event (message.sent/delivered/read/failed): the message's
//     contact and conversation come from its event_contact/event_conversation
//     copy, written when it was accepted (the contact's without its tags and
//     attributes when they take more than 16 KB), so no status reads
//     ORG#<org>; then one BatchGetItem (eventually consistent) of two keys
//     outside it: ORG#<org>#CONV#<conv> / EVENTVIEW, which resolve, reopen,
//     handoff and a merge write in their transactions (status, handoff,
//     contact_id: overlaid on the copy), and ORG#<org>#CONTACT#<c> / MERGED,
//     which a merge writes for the merged contact (the survivor's id and
//     copy: shown instead, a chain followed by a GetItem a hop). A message
//     stored before the copy was kept reads the contact and conversation
//     items (Store.EventContext).
// 11. A status by wamid: GetItem ORG#<org>#WAMID#<wamid> / WAMID, then the message.
// 12. Conversations of a contact: Query gsi1 gsi1pk = ORG#<org>#CONTACT#<c>
//     (newest first for the customer-service window).
// 13. Replay an Idempotency-Key: GetItem ORG#<org>#IDEM#<sha256(key)> / IDEM.
// 14. Sender claim and transitions of a message: conditional UpdateItem on
//     ORG#<org>#MSG#<id> / MSG (send_state, claim token, lease).
// 15. Statuses that beat the sender to the wamid: Query ORG#<org>#WAMID#<wamid>,
//     sk begins_with STATUS#, after the wamid is stored.
// 16. Per-number throughput: conditional ADD of a lease of tokens on
//     RATE#<phone>#<second> / RATE (n <= ceiling - lease).
// 16b. /v1 rate limits: conditional UpdateItem of LIMIT#org#<org> and
//     LIMIT#key#<key> (SET tat = tat + T if now <= tat <= now + (burst-1)T;
//     else SET tat = now + T if tat < now).
// 17. An organisation's webhooks (listing, fan-out): Query pk = ORG#<org>,
//     sk begins_with WEBHOOK# (at most MaxWebhooks, kept by the WEBHOOKCOUNT
//     counter: incremented with the condition n < MaxWebhooks in the create's
//     transaction, decremented in the delete's).
// 18. A webhook's deliveries, newest first: Query each of its DeliveryShards
//     partitions ORG#<org>#WEBHOOK#<wh>#<shard>, sk begins_with DLV# (or
//     below the cursor's), descending, merged (deliveries.go); one delivery:
//     GetItem (its id holds its time and the hash its shard comes from).
// 19. Latest events of a name (samples): Query each of its EventSampleShards
//     ORG#<org>#EVENTS#<name>#<shard> (and the unsharded legacy one),
//     descending, merged.
// 20. An organisation's chatbots: Query pk = ORG#<org>, sk begins_with BOT#.
// 21. The bot answering an inbound message: GetItem ORG#<org> / ACTIVEBOT, then
//     GetItem ORG#<org> / BOT#<id>; one active bot per organisation is kept
//     by conditional writes on ACTIVEBOT in the bot's own transactions.
// 22. An organisation's e-commerce integration: GetItem ORG#<org> / INTEGRATION#<platform>.
// 23. Organisation of a platform webhook: GetItem COMMERCE#<platform>#<shop domain or
//     site URL key> / SOURCE (claimed conditionally in the settings' transaction).
// 24. An order with its triggers: Query pk = ORG#<org>#ORDER#<platform>#<id> (consistent).
// 25. Once per trigger: conditional UpdateItem of NOTIFY#<trigger> (new, or pending
//     with an expired lease); once per Shopify webhook id (its receipt): the same on CHOOK#...
// 26. Total spent once per order: the contact's conditional put and the order's
//     "counted" flag in one transaction.
// 27. An organisation's templates: Query pk = ORG#<org>#TPL, sk begins_with
//     TPL# (TPL#<name># for one name's languages); one: GetItem; whether the
//     copy was ever synced: GetItem ORG#<org>#TPL / SYNC.
// 28. Every connection (the scheduled template sync): Query gsi1 gsi1pk =
//     WHATSAPPS (connections saved before it join when saved again or when
//     an account webhook updates their signals).
// 29. Due scheduled messages (the sweep): GetItem SCHEDSWEEP / CURSOR, then for
//     each minute from it to now and each of its 16 shards, Query
//     pk = SCHED#<minute>#<shard>, sk < <now + 1 ms> (never a Scan; a minute's
//     messages spread over 16 partitions by a hash of the message id). Release,
//     fail or cancel: one transaction of the message's conditional UpdateItem
//     (send_state = scheduled) and the schedule item's Delete (with the outbox
//     Put of its job or events); the cursor moves by a conditional UpdateItem
//     (minute = the one read).
//
// Uniqueness and dedupe are decided by conditional writes, never by
// read-then-write; writes that touch several items use one transaction.

const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrGSI1PK  = "gsi1pk"
	attrGSI1SK  = "gsi1sk"
	attrType    = "type"
	attrExpires = "expires_at"

	// IndexGSI1 is the table's first global secondary index.
	IndexGSI1 = "gsi1"
)

// Item types.
const (
	typeOrganization  = "organization"
	typeKeyHash       = "api_key_hash"
	typeAPIKey        = "api_key"
	typeWhatsApp      = "whatsapp_account"
	typePhone         = "phone_number"
	typeVerify        = "verify_token"
	typeWABA          = "waba"
	typeContact       = "contact"
	typeIdentity      = "contact_identity"
	typeConversation  = "conversation"
	typeOpenConv      = "open_conversation"
	typeMessage       = "message"
	typeStatus        = "message_status"
	typeWamid         = "wamid"
	typeMedia         = "media"
	typeWAField       = "whatsapp_field"
	typeUnrouted      = "unrouted"
	typeUnroutedCount = "unrouted_count"
	typeIdempotency   = "idempotency_key"
	typeRate          = "send_rate"
	typeWebhook       = "webhook"
	typeWebhookCount  = "webhook_count"
	typeLimit         = "rate_limit_bucket"
	typeRoute         = "outbound_route"
	typeDelivery      = "webhook_delivery"
	typeDeliveryEvent = "webhook_delivery_event"
	typeEventSample   = "event_sample"
	typeChatbot       = "chatbot"
	typeConvEventView = "conversation_event_view"
	typeMergeRedirect = "contact_merge_redirect"
	typeActiveBot     = "active_chatbot"
)

func orgPK(org string) string   { return "ORG#" + org }
func orgSK() string             { return "ORG" }
func keyHashPK(h string) string { return "KEY#" + h }
func keyHashSK() string         { return "KEY" }
func apiKeySK(id string) string { return "APIKEY#" + id }
func apiKeySKPrefix() string    { return "APIKEY#" }

func whatsappSK() string                        { return "WHATSAPP" }
func phonePK(pid string) string                 { return "PHONE#" + pid }
func phoneSK() string                           { return "PHONE" }
func verifyPK(h string) string                  { return "VERIFY#" + h }
func verifySK() string                          { return "VERIFY" } // before verify tokens could repeat
func verifyOrgSK(org string) string             { return "ORG#" + org }
func contactSK(id string) string                { return contactSKPrefix + id }
func identWAPK(org, waID string) string         { return "ORG#" + org + "#IDENT#WA#" + waID }
func identBSUIDPK(org, userID string) string    { return "ORG#" + org + "#IDENT#BSUID#" + userID }
func identSK() string                           { return "IDENT" }
func convSK(id string) string                   { return convSKPrefix + id }
func contactConvsPK(org, contact string) string { return "ORG#" + org + "#CONTACT#" + contact }
func openConvSK() string                        { return "OPENCONV" }
func msgPK(org, id string) string               { return "ORG#" + org + "#MSG#" + id }
func msgSK() string                             { return "MSG" }
func convMsgsPK(org, conv string) string        { return "ORG#" + org + "#CONV#" + conv }
func convEventViewSK() string                   { return "EVENTVIEW" } // pk convMsgsPK: base table, one item
func mergedSK() string                          { return "MERGED" }    // pk contactConvsPK of the merged contact
func msgGSISK(id string) string                 { return "MSG#" + id }
func statusSK(status string) string             { return statusSKPrefix + status }
func wamidPK(org, wamid string) string          { return "ORG#" + org + "#WAMID#" + wamid }
func wamidSK() string                           { return "WAMID" }
func mediaPK(org, media string) string          { return "ORG#" + org + "#MEDIA#" + media }
func mediaSK() string                           { return "MEDIA" }
func waFieldPK(org string) string               { return "ORG#" + org + "#WAFIELD" }
func unroutedPK(source, hour string) string     { return "UNROUTED#" + source + "#" + hour }
func unroutedCountSK() string                   { return "COUNT" }
func wabaPK(id string) string                   { return "WABA#" + id }
func wabaSK() string                            { return "WABA" }
func idemSK() string                            { return "IDEM" }
func rateSK() string                            { return "RATE" }

// Prefixes of the sort keys that are queried with begins_with.
const (
	contactSKPrefix = "CONTACT#"
	convSKPrefix    = "CONV#"
	statusSKPrefix  = "STATUS#"
)

// idemPK hashes the client's key so any characters are safe in the key.
func idemPK(org, idemKey string) string {
	sum := sha256.Sum256([]byte(idemKey))
	return "ORG#" + org + "#IDEM#" + hex.EncodeToString(sum[:])
}

func ratePK(phoneNumberID string, unixSecond int64) string {
	return "RATE#" + phoneNumberID + "#" + strconv.FormatInt(unixSecond, 10)
}

// routePK is the lane of a contact's last non-bulk outbound message
// (lanes.go): its own partition key, one item per contact.
func routePK(org, contactID string) string { return "ORG#" + org + "#ROUTE#" + contactID }
func routeSK() string                      { return "ROUTE" }

// Webhook subscriptions, their deliveries and event samples (webhooks.go,
// deliveries.go).
const (
	webhookSKPrefix  = "WEBHOOK#"
	deliverySKPrefix = "DLV#"
)

func webhookSK(id string) string { return webhookSKPrefix + id }
func webhookCountSK() string     { return "WEBHOOKCOUNT" }

// limitPK is a /v1 rate-limit bucket: "org#<org>" or "key#<key id>".
func limitPK(bucket string) string           { return "LIMIT#" + bucket }
func limitSK() string                        { return "LIMIT" }
func deliverySK(id string) string            { return deliverySKPrefix + id }
func deliveryEventSK(eventID string) string  { return "DLVEVT#" + eventID }
func eventSamplesPK(org, name string) string { return "ORG#" + org + "#EVENTS#" + name }
func eventSampleSK(at time.Time, eventID string) string {
	return timestamp(at) + "#" + eventID
}

// Chatbots (chatbots.go).
const chatbotSKPrefix = "BOT#"

func chatbotSK(id string) string { return chatbotSKPrefix + id }
func activeBotSK() string        { return "ACTIVEBOT" }

// E-commerce integrations (shop.go).
const (
	typeIntegration       = "integration"
	typeIntegrationSource = "integration_source"
	typeOrder             = "order"
	typeOrderTrigger      = "order_trigger"
	typeShopReceipt       = "commerce_webhook"
	typeShopRecord        = "commerce_webhook_record"
	triggerSKPrefix       = "NOTIFY#"
)

func integrationSK(platform string) string { return "INTEGRATION#" + platform }
func integrationSourcePK(platform, sourceKey string) string {
	return "COMMERCE#" + platform + "#" + sourceKey
}
func integrationSourceSK() string { return "SOURCE" }
func orderPK(org, platform, orderID string) string {
	return "ORG#" + org + "#ORDER#" + platform + "#" + orderID
}
func orderSK() string                 { return "ORDER" }
func triggerSK(trigger string) string { return triggerSKPrefix + trigger }
func shopReceiptPK(org, platform, webhookID string) string {
	return "ORG#" + org + "#CHOOK#" + platform + "#" + webhookID
}
func shopReceiptSK() string                    { return "HOOK" }
func shopRecordPK(org, platform string) string { return "ORG#" + org + "#CREC#" + platform }

// Message templates (templates.go).
const (
	typeTemplate     = "template"
	typeTemplateSync = "template_sync"
	templateSKPrefix = "TPL#"
)

func templatesPK(org string) string { return "ORG#" + org + "#TPL" }

// templateSK is a template's sort key; with language "" the prefix of a
// name's languages.
func templateSK(name, language string) string { return templateSKPrefix + name + "#" + language }
func templateSyncSK() string                  { return "SYNC" }

// whatsappListPK is the gsi1 partition listing every connection.
func whatsappListPK() string { return "WHATSAPPS" }
